//! Parsing of real-world response quirks, without a server.
#![allow(clippy::unwrap_used)]

use crate::client::parse_body;
use crate::models::{Listing, SectionList};
use crate::{MetadataType, PlexError, SectionType};

const STRINGLY_JSON: &str = r#"{"MediaContainer":{"size":"1","totalSize":"1","offset":"0","librarySectionID":"1",
  "Metadata":[{"ratingKey":"103","key":"/library/metadata/103","type":"movie","title":"The Quiet Orchard",
  "year":"2015","duration":"30000","librarySectionID":"1","viewOffset":"12000","audienceRating":"7.1",
  "unknownFutureField":{"nested":[1,2]},
  "Genre":[{"tag":"Mystery","id":"900"}],
  "Media":[{"id":"1031","duration":"30000","bitrate":"400","width":"640","height":"360","videoCodec":"h264",
    "audioCodec":"aac","container":"mp4","videoResolution":"sd","optimizedForStreaming":"1",
    "Part":[{"id":"1031","key":"/library/parts/1031/1700000103/file.mp4","size":"1474965","duration":"30000",
      "container":"mp4","has64bitOffsets":"0",
      "Stream":[{"id":"10311","streamType":"1","codec":"h264","height":"360","width":"640","selected":"1"},
                {"id":"10312","streamType":"2","codec":"aac","channels":"2","selected":true}]}]}]}]}}"#;

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="1" totalSize="1" offset="0" librarySectionID="1">
  <Video ratingKey="103" key="/library/metadata/103" type="movie" title="The Quiet Orchard" year="2015"
         duration="30000" librarySectionID="1" viewOffset="12000" audienceRating="7.1">
    <Media id="1031" duration="30000" bitrate="400" width="640" height="360" videoCodec="h264"
           audioCodec="aac" container="mp4" videoResolution="sd">
      <Part id="1031" key="/library/parts/1031/1700000103/file.mp4" size="1474965" duration="30000" container="mp4">
        <Stream id="10311" streamType="1" codec="h264" height="360" width="640" selected="1"/>
        <Stream id="10312" streamType="2" codec="aac" channels="2" selected="1"/>
      </Part>
    </Media>
    <Genre tag="Mystery" id="900"/>
  </Video>
</MediaContainer>"#;

#[test]
fn strings_for_numbers_parse() {
    let l: Listing = parse_body(STRINGLY_JSON.as_bytes(), Some("application/json"), "t").unwrap();
    assert_eq!(l.total_size, Some(1));
    let items = l.into_items();
    let m = &items[0];
    assert_eq!(m.rating_key, "103");
    assert_eq!(m.r#type, MetadataType::Movie);
    assert_eq!(m.year, Some(2015));
    assert_eq!(m.duration, Some(30_000));
    assert_eq!(m.view_offset, Some(12_000));
    assert_eq!(m.audience_rating, Some(7.1));
    assert_eq!(m.library_section_id.as_deref(), Some("1"));
    assert_eq!(m.genres[0].tag, "Mystery");
    let part = &m.media[0].parts[0];
    assert_eq!(
        (m.media[0].id, part.id, part.size),
        (1031, 1031, Some(1_474_965))
    );
    assert_eq!(part.streams.len(), 2);
    assert_eq!(part.streams[0].selected, Some(true));
    assert_eq!(part.streams[1].channels, Some(2));
}

#[test]
fn xml_parses_into_the_same_metadata() {
    let from_json: Listing = parse_body(STRINGLY_JSON.as_bytes(), None, "t").unwrap();
    let from_xml: Listing =
        parse_body(XML.as_bytes(), Some("text/xml;charset=utf-8"), "t").unwrap();
    // Compare via serialisation: the models derive Serialize.
    let a = serde_json::to_value(from_json.into_items()).unwrap();
    let b = serde_json::to_value(from_xml.into_items()).unwrap();
    assert_eq!(a, b);
    // Even without a content type, a body starting with '<' is treated as XML.
    let sniffed: Listing = parse_body(XML.as_bytes(), None, "t").unwrap();
    assert_eq!(sniffed.into_items()[0].media[0].parts[0].streams.len(), 2);
}

#[test]
fn missing_fields_and_missing_metadata_key() {
    let l: Listing =
        parse_body(br#"{"MediaContainer":{"size":0,"offset":400}}"#, None, "t").unwrap();
    assert_eq!(l.size, Some(0));
    assert!(l.into_items().is_empty());

    let l: Listing = parse_body(
        br#"{"MediaContainer":{"Metadata":[{"ratingKey":104,"title":"Midnight Cartographers","type":"movie"}]}}"#,
        None,
        "t",
    )
    .unwrap();
    let m = &l.into_items()[0];
    assert_eq!(m.rating_key, "104");
    assert!(m.summary.is_none() && m.thumb.is_none() && m.year.is_none());
    assert!(m.media.is_empty() && m.genres.is_empty());
}

#[test]
fn several_media_versions() {
    let body = br#"{"MediaContainer":{"Metadata":[{"ratingKey":"101","type":"movie","title":"Harbor Lights",
      "Media":[{"id":1011,"videoCodec":"h264","container":"mp4","Part":[{"id":1011,"key":"/library/parts/1011/1/file.mp4"}]},
               {"id":1012,"videoCodec":"hevc","container":"mkv","Part":[{"id":1012,"key":"/library/parts/1012/1/file.mkv"}]}]}]}}"#;
    let l: Listing = parse_body(body, None, "t").unwrap();
    let m = &l.into_items()[0];
    assert_eq!(m.media.len(), 2);
    assert_eq!(m.media[1].video_codec.as_deref(), Some("hevc"));
    assert_eq!(m.media[1].parts[0].key, "/library/parts/1012/1/file.mkv");
}

#[test]
fn show_children_skip_all_episodes_and_xml_directories_become_metadata() {
    let json = br#"{"MediaContainer":{"size":3,
      "Directory":[{"leafCount":8,"key":"/library/metadata/201/allLeaves","title":"All episodes"}],
      "Metadata":[{"ratingKey":"210","type":"season","title":"Specials","index":0},
                  {"ratingKey":"211","type":"season","title":"Season 1","index":1}]}}"#;
    let xml = br#"<MediaContainer size="3">
      <Directory leafCount="8" key="/library/metadata/201/allLeaves" title="All episodes"/>
      <Directory ratingKey="210" type="season" title="Specials" index="0"/>
      <Directory ratingKey="211" type="season" title="Season 1" index="1"/>
    </MediaContainer>"#;
    for body in [&json[..], &xml[..]] {
        let l: Listing = parse_body(body, None, "t").unwrap();
        let seasons = l.into_items();
        assert_eq!(seasons.len(), 2);
        assert_eq!(seasons[0].index, Some(0));
        assert_eq!(seasons[0].r#type, MetadataType::Season);
    }
}

#[test]
fn sections_tolerate_unknown_types() {
    let body = br#"{"MediaContainer":{"Directory":[{"key":"1","type":"movie","title":"Movies","updatedAt":"1700000000"},
      {"key":7,"type":"podcast","title":"Pods"}]}}"#;
    let s: SectionList = parse_body(body, None, "t").unwrap();
    assert_eq!(s.directory[0].r#type, SectionType::Movie);
    assert_eq!(s.directory[0].updated_at, Some(1_700_000_000));
    assert_eq!(s.directory[1].key, "7");
    assert_eq!(s.directory[1].r#type, SectionType::Other);
}

#[test]
fn garbage_is_malformed() {
    let err = parse_body::<Listing>(
        br#"{"MediaContainer":{"Metadata":[{"ratingKey":"#,
        None,
        "t",
    )
    .unwrap_err();
    assert!(matches!(err, PlexError::Malformed { .. }), "{err:?}");
    let err =
        parse_body::<Listing>(b"<html><body>proxy error</body></html>", None, "t").unwrap_err();
    assert!(matches!(err, PlexError::Malformed { .. }), "{err:?}");
}

#[test]
fn metrics_labels_name_the_endpoint_not_the_item() {
    use crate::client::endpoint_label;
    assert_eq!(
        endpoint_label("/library/metadata/101?includeMarkers=1"),
        "/library/metadata/:id"
    );
    assert_eq!(
        endpoint_label("/library/parts/1011/1700000101/file.mp4"),
        "/library/parts/:id"
    );
    assert_eq!(
        endpoint_label("/library/sections/1/all?type=1"),
        "/library/sections/:id"
    );
    assert_eq!(endpoint_label("/:/timeline?ratingKey=2110"), "/:/timeline");
    assert_eq!(
        endpoint_label("/video/:/transcode/universal/session/abc123/base/index.m3u8"),
        "/video/:/transcode"
    );
    assert_eq!(
        endpoint_label("/hubs/continueWatching/items"),
        "/hubs/continueWatching/items"
    );
}
