//! Authentication (in progress).
