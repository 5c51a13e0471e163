//! A Rust client for a node's JSON-RPC: keys, transaction building and signing, typed calls,
//! subscriptions. The CLI and the tests use it; integrators in Rust can too.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use vellum::client::{Client, Signer};
//! let client = Client::connect("http://127.0.0.1:8100").await?;
//! let mut signer = Signer::load(std::path::Path::new("net/keys/org-1-admin.key"), &client).await?;
//! let receipt = client
//!     .submit_and_wait(&signer.call([0u8; 32], "mint", serde_json::json!({})))
//!     .await?;
//! println!("{receipt}");
//! # Ok(()) }
//! ```

use crate::ledger::{
    transaction::{address_of, hex, public_key, unhex},
    Action, Address, SignedTransaction, Transaction,
};
use anyhow::{anyhow, Context as _};
use jsonrpsee::{
    core::{
        client::{ClientT, Subscription, SubscriptionClientT},
        params::ArrayParams,
    },
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
    ws_client::{WsClient, WsClientBuilder},
};
use k256::ecdsa::SigningKey;
use serde_json::Value;
use std::{path::Path, time::Duration};

/// Fuel a CLI transaction asks for unless told otherwise.
pub const DEFAULT_FUEL: u64 = 100_000_000;

/// A connection to one node.
pub struct Client {
    http: HttpClient,
    url: String,
    chain_id: String,
}

impl Client {
    /// Connect to the node at `url` (`http://host:port`) and learn its chain id.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let http = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(90))
            .max_request_size(crate::rpc::REQUEST_BYTES_MAX)
            .build(url)
            .with_context(|| format!("{url} is not a node URL (expected http://host:port)"))?;
        let chain_id: String = http
            .request("vellum_chainId", rpc_params![])
            .await
            .with_context(|| {
                format!("no node answers at {url}; is it running? (vellum devnet starts one)")
            })?;
        Ok(Self {
            http,
            url: url.to_string(),
            chain_id,
        })
    }

    /// The chain this node serves.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Call `method` with `params`.
    pub async fn call(&self, method: &str, params: ArrayParams) -> anyhow::Result<Value> {
        self.http
            .request(method, params)
            .await
            .map_err(|e| anyhow!("{method}: {}", describe(e)))
    }

    /// `vellum_status`.
    pub async fn status(&self) -> anyhow::Result<Value> {
        self.call("vellum_status", rpc_params![]).await
    }

    /// The next nonce of `address`.
    pub async fn nonce(&self, address: &Address) -> anyhow::Result<u64> {
        let value = self
            .call("vellum_getNonce", rpc_params![hex(address)])
            .await?;
        value
            .as_u64()
            .ok_or_else(|| anyhow!("vellum_getNonce returned {value}"))
    }

    /// Submit `transaction`; returns its hash.
    pub async fn submit(&self, transaction: &SignedTransaction) -> anyhow::Result<String> {
        let value = self
            .call(
                "vellum_sendRawTransaction",
                rpc_params![hex(&transaction.encode())],
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Submit `transaction` and wait until it is committed; returns its receipt.
    pub async fn submit_and_wait(&self, transaction: &SignedTransaction) -> anyhow::Result<Value> {
        self.call(
            "vellum_sendRawTransactionAndWait",
            rpc_params![hex(&transaction.encode()), 30_000u64],
        )
        .await
    }

    /// A read-only contract query.
    pub async fn query(
        &self,
        contract: &Address,
        method: &str,
        args: Value,
    ) -> anyhow::Result<Value> {
        self.call("vellum_query", rpc_params![hex(contract), method, args])
            .await
    }

    /// Subscribe to blocks from `from` (or the next one) over WebSocket.
    pub async fn blocks(
        &self,
        from: Option<u64>,
    ) -> anyhow::Result<(WsClient, Subscription<Value>)> {
        let ws = WsClientBuilder::default()
            .build(self.url.replacen("http", "ws", 1))
            .await
            .context("cannot open a WebSocket to the node")?;
        let subscription = ws
            .subscribe(
                "vellum_subscribeBlocks",
                rpc_params![from],
                "vellum_unsubscribeBlocks",
            )
            .await
            .map_err(|e| anyhow!("vellum_subscribeBlocks: {}", describe(e)))?;
        Ok((ws, subscription))
    }
}

/// A JSON-RPC error with its `data`, which says what was wrong.
fn describe(error: jsonrpsee::core::ClientError) -> String {
    match error {
        jsonrpsee::core::ClientError::Call(call) => match call.data() {
            Some(data) => format!(
                "{} ({}): {}",
                call.message(),
                call.code(),
                data.get().trim_matches('"')
            ),
            None => format!("{} ({})", call.message(), call.code()),
        },
        other => other.to_string(),
    }
}

/// Signs transactions for one identity, counting its nonces.
pub struct Signer {
    key: SigningKey,
    chain_id: String,
    nonce: u64,
    /// Fuel each transaction asks for.
    pub fuel: u64,
}

impl Signer {
    /// A signer for `key` on `client`'s chain, starting at the key's next nonce.
    pub async fn new(key: SigningKey, client: &Client) -> anyhow::Result<Self> {
        let nonce = client.nonce(&address_of(&public_key(&key))).await?;
        Ok(Self {
            key,
            chain_id: client.chain_id().to_string(),
            nonce,
            fuel: DEFAULT_FUEL,
        })
    }

    /// A signer for the key in `path` (hex, as `vellum init` and `vellum keys new` write).
    pub async fn load(path: &Path, client: &Client) -> anyhow::Result<Self> {
        Self::new(read_key(path)?, client).await
    }

    /// Its address.
    pub fn address(&self) -> Address {
        address_of(&public_key(&self.key))
    }

    /// Sign `action` with the next nonce.
    pub fn sign(&mut self, action: Action) -> SignedTransaction {
        let transaction = Transaction {
            chain_id: self.chain_id.clone(),
            sender: public_key(&self.key),
            nonce: self.nonce,
            fuel_limit: self.fuel,
            action,
        }
        .sign(&self.key);
        self.nonce += 1;
        transaction
    }

    /// Sign a call of `contract`'s `method` with JSON `args`.
    pub fn call(&mut self, contract: Address, method: &str, args: Value) -> SignedTransaction {
        self.sign(Action::Call {
            contract,
            method: method.to_string(),
            args: args.to_string(),
        })
    }

    /// Sign a deploy of `code` with JSON `init_args`.
    pub fn deploy(&mut self, code: Vec<u8>, init_args: Value) -> SignedTransaction {
        self.sign(Action::Deploy {
            code,
            init_args: init_args.to_string(),
        })
    }
}

/// Read a transaction key file (`0x` hex of the 32-byte secret).
pub fn read_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    let bytes = unhex(text.trim())
        .ok_or_else(|| anyhow!("{} does not hold 0x-prefixed hex", path.display()))?;
    SigningKey::from_slice(&bytes)
        .map_err(|_| anyhow!("{} does not hold a secp256k1 secret key", path.display()))
}

/// An address from `0x` hex.
pub fn parse_address(text: &str) -> anyhow::Result<Address> {
    unhex(text)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| anyhow!("{text} is not an address (0x and 64 hex digits)"))
}
