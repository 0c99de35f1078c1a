# Marquee's container images: the self-contained `marquee` (the site is inside it), built on the
# host by scripts/release.sh, on Debian slim.
#
#   ./scripts/release.sh
#   docker build -t marquee .                        # for your Plex server (PLEX_URL, PLEX_TOKEN)
#   docker build --target demo -t marquee:demo .     # with ffmpeg, for the built-in demo library
#   docker run -d -p 3000:3000 -v marquee-data:/data -e PLEX_URL=… -e PLEX_TOKEN=… marquee
#
# (podman: add `--format docker`, which keeps the health check.) The build context is the
# checkout; .dockerignore lets only the binary in. The tests, which have no time for a release
# build, pass `--build-arg MARQUEE_BIN=target/debug/marquee`: the same binary, unoptimised.

FROM debian:bookworm-slim AS runtime
ARG MARQUEE_BIN=target/dist/marquee
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home marquee \
 && mkdir -p /data \
 && chown marquee:marquee /data
COPY ${MARQUEE_BIN} /usr/local/bin/marquee
# The database (SQLite by default), the keys Marquee makes for itself, and the demo media.
ENV MARQUEE_DATA_DIR=/data \
    MARQUEE_BIND=0.0.0.0:3000
VOLUME /data
WORKDIR /data
USER marquee
EXPOSE 3000
# `marquee health` asks the running server's /healthz: no curl needed in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["marquee", "health"]
# Marquee handles SIGTERM itself: it stops taking connections, lets requests finish, and exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["marquee"]
CMD ["serve"]

# The demo library makes its media with ffmpeg at first start; ffmpeg and its libraries are
# about 700 MB on Debian, so only this image has them.
FROM runtime AS demo
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
USER marquee

# The default image: for a Plex server of your own.
FROM runtime
