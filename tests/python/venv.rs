//! A Python with PyPI packages, for the tests that check the node against an implementation
//! written in Python from the docs alone. Included by path (`#[path]`) in each test crate that
//! needs it.
//!
//! The packages go in a virtualenv under Cargo's test scratch directory on first run (`python3`
//! with `venv`, and PyPI, are needed once).

use std::{path::PathBuf, process::Command};

/// The virtualenv's python, with `packages` (pinned `name==version`) installed; `imports` is a
/// Python statement that succeeds once they are.
pub fn python(packages: &[&str], imports: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", imports])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            created,
            "this test needs python3 with the venv module (apt-get install python3-venv)"
        );
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet"])
            .args(packages)
            .status()
            .is_ok_and(|s| s.success());
        assert!(installed, "could not install {packages:?} from PyPI");
    }
    python
}

/// A script in `tests/python`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(name)
}
