//! How the IR's enums read in tables and messages: lower-case words, never Rust debug text.

use super::{Encoding, Form, Leak, Reset};
use std::fmt;

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Encoding::Direct => write!(f, "direct"),
            Encoding::Rate { seed } => write!(f, "rate (seed {seed})"),
            Encoding::Burst { max_count } => write!(f, "burst (up to {max_count} per step)"),
            Encoding::Steps => write!(f, "per step (input trains)"),
        }
    }
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Leak::Lambda { lam: 1.0 } => write!(f, "no leak"),
            Leak::Lambda { lam } => write!(f, "leak lam={lam}"),
            Leak::Fixed { d: 0 } => write!(f, "no leak"),
            Leak::Fixed { d } => write!(f, "leak d={d}"),
        }
    }
}

impl fmt::Display for Reset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reset::Subtract => "subtract",
            Reset::Zero => "zero",
        })
    }
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_read_as_words() {
        assert_eq!(Encoding::Direct.to_string(), "direct");
        assert_eq!(
            Encoding::Burst { max_count: 3 }.to_string(),
            "burst (up to 3 per step)"
        );
        assert_eq!(Leak::Lambda { lam: 1.0 }.to_string(), "no leak");
        assert_eq!(Leak::Lambda { lam: 0.5 }.to_string(), "leak lam=0.5");
        assert_eq!(Leak::Fixed { d: 16 }.to_string(), "leak d=16");
        assert_eq!(Reset::Subtract.to_string(), "subtract");
        assert_eq!(Form::Decoupled.to_string(), "decoupled");
        assert_eq!(Form::PureLif.to_string(), "pure-lif");
    }
}
