//! Building blocks shared by several pages.

pub mod cards;
pub mod layout;
pub mod pager;
