//! The Lab 3 tester.
