//! Helpers shared by the synthesis and report tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn fixture(parts: &[&str]) -> PathBuf {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for part in parts {
        p = p.join(part);
    }
    p
}

/// A fresh, empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// True when the EDA tools must be present (CI after scripts/setup-eda.sh): a missing tool fails the test.
pub fn eda_required() -> bool {
    std::env::var("LIFB_REQUIRE_EDA").is_ok_and(|v| v == "1")
}

/// Skip a test loudly, or fail it when LIFB_REQUIRE_EDA=1.
pub fn skip(test: &str, why: &str) {
    if eda_required() {
        panic!(
            "{test}: {why} (LIFB_REQUIRE_EDA=1, so this is a failure; run scripts/setup-eda.sh)"
        );
    }
    eprintln!("\n*** SKIPPED {test}: {why}. Run scripts/setup-eda.sh to install it (LIFB_REQUIRE_EDA=1 makes this a failure). ***\n");
}
