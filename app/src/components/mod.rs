//! Building blocks shared by several pages.

pub mod account;
pub mod cards;
pub mod icons;
pub mod layout;
pub mod pager;
pub mod pick;
pub mod plex_link;
