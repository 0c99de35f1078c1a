//! One module per page; each holds the server function that loads its data.

pub mod home;
pub mod item;
pub mod search;
pub mod section;
pub mod watch;
