//! `vellum new contract`: in a copy of this workspace, the generated crate is a member, locked,
//! free of wasmtime unless its `wasm` feature asks for it, and its native tests pass as generated.
//! (CI also builds it to wasm32 in a fresh clone and runs its wasm tests: `.ci/run`.)

use std::{
    path::Path,
    process::{Command, Output},
};

/// The repository's own files (as git knows them, uncommitted ones included), without the fuzz
/// corpus, copied into `to`.
fn copy_workspace(to: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output()
        .expect("git ls-files (the test copies the repository's files)");
    assert!(listed.status.success(), "{listed:?}");
    for path in listed.stdout.split(|&byte| byte == 0) {
        let path = std::str::from_utf8(path).expect("a UTF-8 path");
        if path.is_empty() || path.starts_with("tests/fuzz/corpus/") {
            continue;
        }
        let from = root.join(path);
        if !from.is_file() {
            continue; // deleted in the work tree, not yet in the index
        }
        let into = to.join(path);
        std::fs::create_dir_all(into.parent().expect("a parent")).expect("create directory");
        std::fs::copy(&from, &into).expect("copy a file");
    }
}

fn cargo(workspace: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(workspace)
        // Its own build directory: the one running this test is locked by the running build.
        .env("CARGO_TARGET_DIR", workspace.join("target"))
        .output()
        .expect("cargo")
}

#[test]
fn a_new_contract_is_a_locked_member_whose_native_tests_pass_without_wasmtime() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let workspace = dir.path();
    copy_workspace(workspace);

    let new = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["new", "contract", "foo"])
        .current_dir(workspace.join("contracts"))
        .output()
        .expect("vellum new contract foo");
    assert!(new.status.success(), "{new:?}");
    let stdout = String::from_utf8_lossy(&new.stdout);
    assert!(stdout.contains("cargo test -p vellum-foo"), "{stdout}");
    for file in ["Cargo.toml", "src/lib.rs", "tests/foo.rs", "README.md"] {
        assert!(
            workspace.join("contracts/foo").join(file).is_file(),
            "{file}"
        );
    }
    let lib = std::fs::read_to_string(workspace.join("contracts/foo/src/lib.rs")).expect("lib.rs");
    assert!(lib.contains("#![no_std]") && lib.contains("pub struct Foo;"));
    let manifest = std::fs::read_to_string(workspace.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("\"contracts/foo\""), "{manifest}");
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).expect("Cargo.lock");
    assert!(
        lock.contains("name = \"vellum-foo\""),
        "Cargo.lock lacks vellum-foo"
    );

    // A second time, or a name cargo or the build script would refuse: an error, nothing written.
    for (name, says) in [
        ("foo", "exists"),
        ("Foo-Bar", "not a contract name"),
        ("sdk", "already has a package vellum-sdk"),
        ("reset", "the template already uses"),
    ] {
        let again = Command::new(env!("CARGO_BIN_EXE_vellum"))
            .args(["new", "contract", name, "--workspace"])
            .arg(workspace)
            .output()
            .expect("vellum new contract");
        assert!(!again.status.success());
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(workspace.join("Cargo.toml")).expect("Cargo.toml"),
        manifest
    );

    // The wasm host (wasmtime, cranelift) is in the tree only with the `wasm` feature.
    let tree = |features: &[&str]| {
        let mut args = vec!["tree", "-p", "vellum-foo", "-e", "normal,dev,build"];
        args.extend(features);
        args.extend(["--prefix", "none", "--offline", "--locked"]);
        let tree = cargo(workspace, &args);
        assert!(tree.status.success(), "{tree:?}");
        String::from_utf8_lossy(&tree.stdout).into_owned()
    };
    assert!(!tree(&[]).contains("wasmtime"));
    assert!(tree(&["--features", "wasm"]).contains("wasmtime "));

    // As generated, it is formatted as `cargo fmt` would.
    let fmt = cargo(workspace, &["fmt", "-p", "vellum-foo", "--", "--check"]);
    assert!(fmt.status.success(), "{fmt:?}");

    let test = cargo(
        workspace,
        &["test", "-p", "vellum-foo", "--offline", "--locked"],
    );
    let report = String::from_utf8_lossy(&test.stdout);
    assert!(test.status.success(), "{test:?}");
    assert!(
        report.contains("native_run_follows_the_rules ... ok"),
        "{report}"
    );
}
