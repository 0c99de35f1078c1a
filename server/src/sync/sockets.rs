//! How many WebSockets may be open: per client address and in all on this server. A socket
//! costs a task, buffers and a place in a room; without a cap one address could open them
//! until the server runs out of memory or file descriptors.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The caps, from the settings.
#[derive(Clone, Copy, Debug)]
pub struct SocketLimits {
    pub per_address: usize,
    pub total: usize,
}

/// Why a socket may not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SocketRefusal {
    #[error("too many connections from your address ({0}); close other Marquee tabs")]
    Address(usize),
    #[error("this Marquee has as many viewers connected as it allows ({0}); try again later")]
    Full(usize),
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Counts open sockets (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct SocketGate {
    limits: SocketLimits,
    counts: Arc<Mutex<Counts>>,
}

/// One open socket's place; freed when dropped.
pub struct SocketPermit {
    gate: SocketGate,
    address: IpAddr,
}

impl SocketGate {
    pub fn new(limits: SocketLimits) -> Self {
        Self {
            limits,
            counts: Arc::default(),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more socket from `address` (a client bucket), if the caps allow it.
    pub fn admit(&self, address: IpAddr) -> Result<SocketPermit, SocketRefusal> {
        let mut counts = self.counts();
        if counts.total >= self.limits.total {
            return Err(SocketRefusal::Full(self.limits.total));
        }
        let mine = counts.by_address.entry(address).or_default();
        if *mine >= self.limits.per_address {
            return Err(SocketRefusal::Address(self.limits.per_address));
        }
        *mine += 1;
        counts.total += 1;
        Ok(SocketPermit {
            gate: self.clone(),
            address,
        })
    }

    /// Sockets open now.
    pub fn open(&self) -> usize {
        self.counts().total
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut counts = self.gate.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn caps_per_address_and_in_all_and_places_come_back() {
        let gate = SocketGate::new(SocketLimits {
            per_address: 2,
            total: 3,
        });
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let p1 = gate.admit(a).unwrap();
        let _p2 = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).err(), Some(SocketRefusal::Address(2)));
        let _p3 = gate.admit(b).unwrap();
        assert_eq!(gate.admit(b).err(), Some(SocketRefusal::Full(3)));
        drop(p1);
        let again = gate.admit(a);
        assert!(again.is_ok());
        assert_eq!(gate.open(), 3);
        drop(again);
        assert_eq!(gate.open(), 2);
    }
}
