//! `vellum keys`: transaction keys (secp256k1).

use anyhow::{anyhow, Context as _};
use k256::ecdsa::SigningKey;
use std::path::PathBuf;
use vellum::keys::generate_member_key;
use vellum_client::read_member_key;
use vellum_types::{address_of, hex, public_key};

/// Arguments of `vellum keys`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Keys,
}

#[derive(clap::Subcommand)]
enum Keys {
    /// Make a new key and write it to a file.
    New {
        /// Where to write it (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Show a key's public key and its own address: the address of an account whose first key
    /// it is (an account that rotated to it keeps its own address).
    Show {
        /// The key file.
        key: PathBuf,
    },
}

/// Make or show a key.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Keys::New { out } => {
            if out.exists() {
                return Err(anyhow!("{} exists; choose another --out", out.display()));
            }
            let key = generate_member_key()?;
            std::fs::write(&out, hex(&key.to_bytes()))
                .with_context(|| format!("cannot write {}", out.display()))?;
            show(&key);
            println!("written to {}", out.display());
            Ok(())
        }
        Keys::Show { key } => {
            show(&read_member_key(&key)?);
            Ok(())
        }
    }
}

fn show(key: &SigningKey) {
    let public = public_key(key);
    println!("public key: {}", hex(&public));
    println!("address:    {}", hex(&address_of(&public)));
}
