//! AnyTrade read models.
