//! `vellum new contract NAME`: a contract crate from the template in `templates/contract/`.

use anyhow::{anyhow, bail, Context as _};
use std::{
    path::{Path, PathBuf},
    process::Command,
};
use toml_edit::{DocumentMut, Value};

/// Arguments of `vellum new`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// A contract crate: contracts/NAME, package vellum-NAME, added to the workspace.
    ///
    /// It holds a small working contract (a counter with an owner), its tests on both hosts
    /// (natively by default, against its built wasm with --features wasm) and a README with
    /// its methods, events, errors and fuel. Then:
    ///
    ///   cargo test -p vellum-NAME
    ///   scripts/build-contracts.sh NAME
    ///   UPDATE_FUEL_TABLES=1 cargo test -p vellum-NAME --features wasm
    #[command(verbatim_doc_comment)]
    Contract {
        /// Its name: a lowercase letter, then lowercase letters, digits or `_` (at most 32).
        name: String,
        /// The Vellum workspace (default: the one around the current directory).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
}

/// The template, `{{name}}` and `{{Type}}` to be replaced: (path in the crate, text).
const TEMPLATE: [(&str, &str); 4] = [
    (
        "Cargo.toml",
        include_str!("../../templates/contract/Cargo.toml.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/contract/lib.rs.tmpl"),
    ),
    (
        "tests/{{name}}.rs",
        include_str!("../../templates/contract/test.rs.tmpl"),
    ),
    (
        "README.md",
        include_str!("../../templates/contract/README.md.tmpl"),
    ),
];

/// Create what was asked for.
pub fn run(args: Args) -> anyhow::Result<()> {
    let What::Contract { name, workspace } = args.what;
    let workspace = match workspace {
        Some(dir) => dir,
        None => find_workspace(&std::env::current_dir()?)?,
    };
    let dir = create(&workspace, &name)?;
    let crate_name = format!("vellum-{name}");
    let cargo = |args: &[&str]| {
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(args)
            .current_dir(&workspace)
            .status()
            .is_ok_and(|status| status.success())
    };
    // Cargo.lock learns of the new member now, so the build script's --locked builds work at
    // once; offline, as every dependency of the template is one the workspace already locks.
    if !cargo(&["update", "--workspace", "--offline", "--quiet"]) {
        eprintln!(
            "note: could not add {crate_name} to Cargo.lock (`cargo update --workspace` failed); \
             the first `cargo test -p {crate_name}` will"
        );
    }
    // Formatted as the workspace formats (line widths and import order depend on the name).
    if !cargo(&["fmt", "-p", &crate_name]) {
        eprintln!(
            "note: `cargo fmt -p {crate_name}` failed; the crate is as the template wrote it"
        );
    }
    println!(
        "created {} (package {crate_name}), a member of the workspace",
        dir.display()
    );
    println!("next:");
    println!("  cargo test -p {crate_name}    # natively, in seconds");
    println!("  scripts/build-contracts.sh {name}    # contracts/artifacts/{name}.wasm");
    println!(
        "  UPDATE_FUEL_TABLES=1 cargo test -p {crate_name} --features wasm    \
         # the artifact agrees with the native run; its fuel into README.md"
    );
    Ok(())
}

/// The nearest directory at or above `start` whose Cargo.toml is a workspace with `contracts/`.
fn find_workspace(start: &Path) -> anyhow::Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if dir.join("contracts").is_dir()
            && std::fs::read_to_string(&manifest).is_ok_and(|text| text.contains("[workspace]"))
        {
            return Ok(dir.to_path_buf());
        }
    }
    Err(anyhow!(
        "no Vellum workspace (a Cargo.toml with [workspace] beside contracts/) at or above {}; \
         run this inside the repository or pass --workspace DIR",
        start.display()
    ))
}

/// Write contracts/`name` in `workspace` from the template and add it to the workspace's
/// members; returns its directory. Nothing is left behind if any check or write fails: the crate
/// is written beside its place and renamed into it, and the manifest is replaced by a rename.
pub fn create(workspace: &Path, name: &str) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    let contracts = workspace.join("contracts");
    let dir = contracts.join(name);
    if dir.exists() {
        bail!("{} exists; choose another name", dir.display());
    }
    let manifest = workspace.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let package = format!("vellum-{name}");
    if let Some((member, _)) = package_members(workspace, &text)?
        .into_iter()
        .find(|(_, found)| *found == package)
    {
        bail!("the workspace already has a package {package} (in {member}); choose another name");
    }
    let members = add_member(&text, &format!("contracts/{name}"))
        .with_context(|| format!("in {}", manifest.display()))?;

    let staging = contracts.join(format!(".{name}.new"));
    let written = write_crate(&staging, name).and_then(|()| {
        std::fs::rename(&staging, &dir)
            .with_context(|| format!("cannot rename {} to {}", staging.display(), dir.display()))
    });
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    let replacement = workspace.join(".Cargo.toml.new");
    let replaced = std::fs::write(&replacement, members)
        .and_then(|()| std::fs::rename(&replacement, &manifest))
        .with_context(|| format!("cannot write {}", manifest.display()));
    if let Err(error) = replaced {
        let _ = std::fs::remove_file(&replacement);
        let _ = std::fs::remove_dir_all(&dir);
        return Err(error);
    }
    Ok(dir)
}

/// The template, rendered for `name`, into the new directory `dir`.
fn write_crate(dir: &Path, name: &str) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir); // a leftover of an interrupted run
    let type_name = type_name(name);
    for (path, template) in TEMPLATE {
        let path = dir.join(path.replace("{{name}}", name));
        let text = template
            .replace("{{name}}", name)
            .replace("{{Type}}", &type_name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// (member path, package name) of every workspace member with a readable Cargo.toml.
fn package_members(workspace: &Path, manifest: &str) -> anyhow::Result<Vec<(String, String)>> {
    let document: DocumentMut = manifest.parse().context("Cargo.toml is not valid TOML")?;
    let members = document
        .get("workspace")
        .and_then(|workspace| workspace.get("members"))
        .and_then(|members| members.as_array())
        .ok_or_else(|| anyhow!("Cargo.toml has no [workspace] members list"))?;
    Ok(members
        .iter()
        .filter_map(|member| member.as_str())
        .filter_map(|member| {
            let text = std::fs::read_to_string(workspace.join(member).join("Cargo.toml")).ok()?;
            let package = text.parse::<DocumentMut>().ok()?;
            let name = package.get("package")?.get("name")?.as_str()?.to_string();
            Some((member.to_string(), name))
        })
        .collect())
}

/// Names the template uses (types, traits, prelude items) that the contract's type, the
/// name in CamelCase, must not shadow.
const TAKEN: [&str; 30] = [
    "Self",
    "Address",
    "Item",
    "Map",
    "Result",
    "Event",
    "Serialize",
    "ContractError",
    "Error",
    "Incremented",
    "Reset",
    "Host",
    "Recorder",
    "TestHost",
    "Contract",
    "Option",
    "Some",
    "None",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "From",
    "Into",
    "Sized",
];

/// A name the build script, Cargo and Rust all accept as it is: `[a-z][a-z0-9_]{0,31}`.
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 32;
    if !valid {
        bail!(
            "`{name}` is not a contract name: start with a lowercase letter, then use lowercase \
             letters, digits and `_` (at most 32), e.g. `loyalty_v2`"
        );
    }
    let type_name = type_name(name);
    if TAKEN.contains(&type_name.as_str()) {
        bail!("`{name}` would name the contract type `{type_name}`, which the template already uses; choose another name");
    }
    Ok(())
}

/// `loyalty_v2` -> `LoyaltyV2`.
fn type_name(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The workspace manifest `text` with `member` added after the last `contracts/` member (or at
/// the end), its formatting and comments kept.
fn add_member(text: &str, member: &str) -> anyhow::Result<String> {
    let mut document: DocumentMut = text.parse().context("not valid TOML")?;
    let members = document
        .get_mut("workspace")
        .and_then(|workspace| workspace.get_mut("members"))
        .and_then(|members| members.as_array_mut())
        .ok_or_else(|| anyhow!("no [workspace] members list"))?;
    if members.iter().any(|m| m.as_str() == Some(member)) {
        bail!("{member} is already a member of the workspace");
    }
    let position = members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.as_str().is_some_and(|m| m.starts_with("contracts/")))
        .map(|(index, _)| index)
        .last()
        .map_or(members.len(), |last| last + 1);
    // Take the layout (one per line, its indentation) of the member before it, not its comments.
    let mut value = Value::from(member);
    if let Some(before) = members.get(position.saturating_sub(1)) {
        let prefix = before
            .decor()
            .prefix()
            .and_then(|prefix| prefix.as_str())
            .unwrap_or("");
        let indentation = prefix.rsplit('\n').next().unwrap_or("");
        if prefix.contains('\n') {
            value.decor_mut().set_prefix(format!("\n{indentation}"));
        } else {
            value.decor_mut().set_prefix(indentation.to_string());
        }
    }
    members.insert_formatted(position, value);
    Ok(document.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_typed() {
        for good in ["foo", "loyalty_v2", "a"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Foo",
            "2fa",
            "foo-bar",
            "_foo",
            "foo bar",
            &"x".repeat(33),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for taken in ["self", "reset", "address", "test_host", "error", "option"] {
            assert!(check_name(taken).is_err(), "{taken}");
        }
        assert_eq!(type_name("loyalty_v2"), "LoyaltyV2");
        assert_eq!(type_name("foo"), "Foo");
    }

    /// The SDK's crate documentation shows, as its complete contract, exactly what
    /// `vellum new contract counter` writes (CI builds that for wasm32 in a fresh clone).
    #[test]
    fn the_sdk_documentation_shows_the_template() {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk/src/lib.rs"))
                .expect("sdk/src/lib.rs");
        let example: String = docs
            .lines()
            .filter_map(|line| line.strip_prefix("//!"))
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .skip_while(|line| *line != "#![no_std]")
            .take_while(|line| !line.starts_with("// tests/counter.rs"))
            .filter(|line| !line.starts_with("# "))
            .map(|line| format!("{line}\n"))
            .collect();
        let template = TEMPLATE[1].1.replace("{{Type}}", "Counter");
        let contract = &template[template.find("#![no_std]").expect("#![no_std]")..];
        assert_eq!(example.trim_end(), contract.trim_end());
    }

    #[test]
    fn a_member_joins_the_other_contracts_with_their_layout() {
        let text = "# the workspace\n[workspace]\nmembers = [\n    \"runtime\",\n    # the use cases\n    \"contracts/points\",\n    \"host/node\",\n]\n\n[workspace.package]\nversion = \"0.1.0\"\n";
        let updated = add_member(text, "contracts/foo").expect("added");
        assert_eq!(
            updated,
            "# the workspace\n[workspace]\nmembers = [\n    \"runtime\",\n    # the use cases\n    \"contracts/points\",\n    \"contracts/foo\",\n    \"host/node\",\n]\n\n[workspace.package]\nversion = \"0.1.0\"\n"
        );
        assert!(add_member(&updated, "contracts/foo").is_err());
        assert!(add_member("[package]\nname = \"x\"\n", "contracts/foo").is_err());
    }
}
