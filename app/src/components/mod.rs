//! Building blocks shared by several pages.

pub mod cards;
pub mod icons;
pub mod layout;
pub mod pager;
