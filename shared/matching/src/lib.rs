//! Mentor matching and coffee pairings: pure functions.
