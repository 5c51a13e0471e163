//! A Rust client for a node's JSON-RPC: keys, transaction building and signing, typed calls,
//! subscriptions. The `vellum` CLI and the tests use it; integrators in Rust can too.
//!
//! # This room
//!
//! It depends on `vellum-types` (what a transaction is and how it is signed) and a JSON-RPC
//! client only, so an integrator's build compiles no wasm engine, database or consensus. It
//! must never know about the node's insides: it speaks the public API of `docs/rpc.md`.
//!
//! ```no_run
//! # async fn example() -> Result<(), vellum_client::Error> {
//! use vellum_client::{Client, Signer};
//! let client = Client::connect("http://127.0.0.1:8100").await?;
//! let mut signer = Signer::load(std::path::Path::new("net/keys/org-1-admin.key"), &client).await?;
//! let receipt = client
//!     .submit_and_wait(&signer.call([0u8; 32], "mint", serde_json::json!({})))
//!     .await?;
//! println!("{receipt}");
//! # Ok(()) }
//! ```

use jsonrpsee::{
    core::{
        client::{ClientT, Subscription, SubscriptionClientT},
        params::{ArrayParams, BatchRequestBuilder},
        ClientError,
    },
    http_client::{HeaderMap, HeaderValue, HttpClient, HttpClientBuilder},
    rpc_params,
    ws_client::{WsClient, WsClientBuilder},
};
use k256::ecdsa::SigningKey;
use rustls_pki_types::{pem::PemObject as _, CertificateDer};
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};
use vellum_types::{
    address_of,
    caller::{CallerToken, CALLER_LIFETIME_MAX_MS},
    hex,
    proof::ReceiptProof,
    public_key,
    rpc::{code, REQUEST_BYTES_MAX},
    state::StateProof,
    unhex, unhex32, Action, Address, Hash, SignedTransaction, Transaction,
};

/// Fuel a CLI transaction asks for unless told otherwise.
pub const DEFAULT_FUEL: u64 = 100_000_000;

/// What can go wrong talking to a node or reading a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL cannot be used.
    #[error("{url} is not a node URL (expected http://host:port)")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// Nothing answered at the URL.
    #[error("no node answers at {url}; is it running? (vellum devnet starts one)")]
    Unreachable {
        /// The URL given.
        url: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// The node at an `https://` URL presented a certificate that does not chain to a trusted
    /// CA.
    #[error("the node at {url} presented a certificate this client does not trust: pass its network's CA certificate (--ca, e.g. vellum-devnet/tls/ca.pem)")]
    UntrustedCertificate {
        /// The URL given.
        url: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// The node answered a method with an error (`docs/rpc.md` lists the codes).
    #[error("{method}: {message} ({code}){}", data.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rpc {
        /// The method.
        method: String,
        /// The JSON-RPC error code.
        code: i32,
        /// Its message.
        message: String,
        /// What was wrong and what to do, if the node said.
        data: Option<String>,
    },
    /// The request did not get an answer (connection, timeout, an unreadable reply).
    #[error("{method}: the request failed")]
    Transport {
        /// The method.
        method: String,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// The key was replaced by a key rotation of its account: sign with the account's current
    /// key.
    #[error("this key no longer signs for account {account}: it was replaced by a key rotation; use the account's current key")]
    KeyRotated {
        /// The account.
        account: String,
    },
    /// A method answered with something else than its documented result.
    #[error("{method} returned {value}")]
    Unexpected {
        /// The method.
        method: String,
        /// What it returned.
        value: Value,
    },
    /// A WebSocket could not be opened.
    #[error("cannot open a WebSocket to the node")]
    WebSocket(#[source] ClientError),
    /// A key file cannot be read.
    #[error("cannot read the key file {}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key file does not hold a secp256k1 secret key in `0x` hex.
    #[error("{} does not hold a secp256k1 secret key (0x and 64 hex digits)", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// A CA certificate file cannot be read.
    #[error("cannot read the CA certificate {}: {source}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A CA certificate cannot be trusted (not a CA certificate rustls accepts).
    #[error("cannot trust the CA certificate {}: {source}", path.display())]
    BadCa {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// Text that should be an address is not one.
    #[error("{0} is not an address (0x and 64 hex digits)")]
    BadAddress(String),
}

impl Error {
    /// The failure of `method` with `error`: the node's answer, or the transport's failure.
    fn call(method: &str, error: ClientError) -> Self {
        match error {
            ClientError::Call(call) => Error::Rpc {
                method: method.to_string(),
                code: call.code(),
                message: call.message().to_string(),
                data: call
                    .data()
                    .map(|data| data.get().trim_matches('"').to_string()),
            },
            source => Error::Transport {
                method: method.to_string(),
                source,
            },
        }
    }

    /// The JSON-RPC error code, if the node answered with an error.
    pub fn code(&self) -> Option<i32> {
        match self {
            Error::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Which certificates an `https://` (and `wss://`) node may present.
#[derive(Clone, Debug, Default)]
pub enum Trust {
    /// Those the system trusts (a node with a certificate from a public CA).
    #[default]
    System,
    /// Only those a network's own CA signed (`vellum init` writes `tls/ca.pem`).
    Ca(Arc<rustls::ClientConfig>),
}

impl Trust {
    /// Trust the CA certificate(s) in the PEM file `path`, and only them.
    pub fn ca_file(path: &Path) -> Result<Self, Error> {
        let ca = |source| Error::CaFile {
            path: path.to_path_buf(),
            source,
        };
        let bad = |source| Error::BadCa {
            path: path.to_path_buf(),
            source,
        };
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_file_iter(path).map_err(ca)? {
            roots.add(certificate.map_err(ca)?).map_err(bad)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(bad)?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self::Ca(Arc::new(config)))
    }
}

/// An HTTP client of the node at `url`, trusting `trust`, sending `headers` with each request.
fn http_client(url: &str, trust: &Trust, headers: &HeaderMap) -> Result<HttpClient, Error> {
    let mut builder = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(90))
        .max_request_size(REQUEST_BYTES_MAX)
        .set_headers(headers.clone());
    if let Trust::Ca(config) = trust {
        builder = builder.with_custom_cert_store(config.as_ref().clone());
    }
    builder.build(url).map_err(|source| Error::BadUrl {
        url: url.to_string(),
        source,
    })
}

/// A connection to one node.
pub struct Client {
    http: HttpClient,
    url: String,
    chain_id: String,
    trust: Trust,
    /// The caller token every request carries, if the client proves a caller.
    headers: HeaderMap,
}

/// How long before its token's expiry a [`Client::connect_as`] client stops being sure of it.
const CALLER_MARGIN_MS: u64 = 60_000;

impl Client {
    /// Connect to the node at `url` (`http://host:port`, or `https://` for a node serving TLS
    /// with a certificate the system trusts) and learn its chain id.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, Trust::System).await
    }

    /// The same, trusting `trust` for an `https://` node.
    pub async fn connect_with(url: &str, trust: Trust) -> Result<Self, Error> {
        Self::connect_inner(url, trust, HeaderMap::new()).await
    }

    /// The same, proving to the node that requests come from `key`'s member (a
    /// [`CallerToken`] in each request's `authorization` header): its queries then run with
    /// that member as their caller. The token is bound to the node's organisation (its
    /// `audience`, from `vellum_status`), so no other organisation's node accepts it, and it
    /// lasts just under an hour (the longest a node accepts): connect again for a longer
    /// session.
    pub async fn connect_as(url: &str, trust: Trust, key: &SigningKey) -> Result<Self, Error> {
        let anonymous = Self::connect_inner(url, trust.clone(), HeaderMap::new()).await?;
        let now_ms = std::time::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| d.as_millis() as u64);
        // Bound to the node's organisation, so that no other organisation's operator can
        // replay it (a node of no organisation takes tokens for any node).
        let status = anonymous.status().await?;
        let audience = status["organisation"].as_str();
        let token = CallerToken::new(
            key,
            &anonymous.chain_id,
            now_ms + CALLER_LIFETIME_MAX_MS - CALLER_MARGIN_MS,
            audience,
        );
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&format!("Vellum {}", token.encode()))
            .unwrap_or_else(|_| unreachable!("hex is a valid header value"));
        headers.insert("authorization", value);
        Ok(Self {
            http: http_client(url, &trust, &headers)?,
            headers,
            ..anonymous
        })
    }

    async fn connect_inner(url: &str, trust: Trust, headers: HeaderMap) -> Result<Self, Error> {
        let http = http_client(url, &trust, &headers)?;
        let chain_id: String = http
            .request("vellum_chainId", rpc_params![])
            .await
            .map_err(|source| {
                // hyper's connection error is opaque: rustls's reason is in the text of one
                // of its sources.
                let url = url.to_string();
                let mut cause: Option<&dyn std::error::Error> = Some(&source);
                let mut untrusted = false;
                while let Some(error) = cause {
                    untrusted |= error.to_string().contains("invalid peer certificate");
                    cause = error.source();
                }
                match untrusted {
                    true => Error::UntrustedCertificate { url, source },
                    false => Error::Unreachable { url, source },
                }
            })?;
        Ok(Self {
            http,
            url: url.to_string(),
            chain_id,
            trust,
            headers,
        })
    }

    /// The chain this node serves.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Call `method` with `params`. A read whose connection fails before an answer (a pooled
    /// keep-alive connection the node closed just as the request went out, say) is sent once
    /// more on a fresh connection; a submission (or a private payload, which would be kept
    /// twice under two salts) is not, since the first may have arrived.
    pub async fn call(&self, method: &str, params: ArrayParams) -> Result<Value, Error> {
        let first = self.http.request(method, params.clone()).await;
        let resend = !method.starts_with("vellum_send") && method != "vellum_putPrivate";
        match first {
            Err(ClientError::Transport(_)) if resend => self.http.request(method, params).await,
            other => other,
        }
        .map_err(|error| Error::call(method, error))
    }

    /// `vellum_status`.
    pub async fn status(&self) -> Result<Value, Error> {
        self.call("vellum_status", rpc_params![]).await
    }

    /// The next nonce of `address`.
    pub async fn nonce(&self, address: &Address) -> Result<u64, Error> {
        let value = self
            .call("vellum_getNonce", rpc_params![hex(address)])
            .await?;
        value.as_u64().ok_or_else(|| Error::Unexpected {
            method: "vellum_getNonce".into(),
            value,
        })
    }

    /// Submit `transaction`; returns its hash.
    pub async fn submit(&self, transaction: &SignedTransaction) -> Result<String, Error> {
        let value = self
            .call(
                "vellum_sendRawTransaction",
                rpc_params![hex(&transaction.encode())],
            )
            .await?;
        match value.as_str() {
            Some(hash) => Ok(hash.to_string()),
            None => Err(Error::Unexpected {
                method: "vellum_sendRawTransaction".into(),
                value,
            }),
        }
    }

    /// Submit `transactions` in one JSON-RPC batch, so that many cost one HTTP request: each
    /// one's hash, or why the node refused it, in order. A node takes at most 100 calls in a
    /// batch (docs/rpc.md) and answers a larger one with one error. Not sent again if the answer
    /// is lost: some may have arrived.
    pub async fn submit_batch(
        &self,
        transactions: &[SignedTransaction],
    ) -> Result<Vec<Result<String, Error>>, Error> {
        const METHOD: &str = "vellum_sendRawTransaction";
        if transactions.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = BatchRequestBuilder::new();
        for transaction in transactions {
            batch
                .insert(METHOD, rpc_params![hex(&transaction.encode())])
                .map_err(|source| Error::call(METHOD, ClientError::ParseError(source)))?;
        }
        let answers = self
            .http
            .batch_request::<Value>(batch)
            .await
            .map_err(|error| Error::call(METHOD, error))?;
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                Ok(Value::String(hash)) => Ok(hash),
                Ok(value) => Err(Error::Unexpected {
                    method: METHOD.into(),
                    value,
                }),
                Err(refused) => Err(Error::call(METHOD, ClientError::Call(refused.into_owned()))),
            })
            .collect())
    }

    /// Submit `transaction` and wait until it is committed; returns its receipt.
    ///
    /// If the answer is lost (a pooled keep-alive connection the node closed just as the request
    /// went out, say), the transaction may or may not have arrived: it is sent once more, which
    /// a node refuses harmlessly if it did ("already"), and its receipt is then awaited by hash.
    pub async fn submit_and_wait(&self, transaction: &SignedTransaction) -> Result<Value, Error> {
        let raw = hex(&transaction.encode());
        match self
            .call(
                "vellum_sendRawTransactionAndWait",
                rpc_params![&raw, 30_000u64],
            )
            .await
        {
            Err(Error::Transport { .. }) => {}
            answered => return answered,
        }
        if let Err(refused @ Error::Rpc { .. }) = self
            .call("vellum_sendRawTransaction", rpc_params![&raw])
            .await
        {
            if !refused.to_string().contains("already") {
                return Err(refused);
            }
        }
        let hash = hex(&transaction.hash());
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match self
                .call("vellum_getTransactionReceipt", rpc_params![&hash])
                .await
            {
                Err(error) if tokio::time::Instant::now() < deadline && error.code().is_some() => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await
                }
                result => return result,
            }
        }
    }

    /// The proof that the receipt of committed transaction `hash` is in a finalized block
    /// (`vellum_getReceiptProof`), decoded; check it with [`ReceiptProof::check`].
    pub async fn receipt_proof(&self, hash: &Hash) -> Result<ReceiptProof, Error> {
        let value = self
            .call("vellum_getReceiptProof", rpc_params![hex(hash)])
            .await?;
        bundle("vellum_getReceiptProof", value, ReceiptProof::from_bytes)
    }

    /// The proof of `key`'s value (or absence) in `namespace` (a contract's address, or 32 zero
    /// bytes for the ledger's records) after the newest block the node can prove
    /// (`vellum_getProof`), decoded; check it with [`StateProof::check`].
    pub async fn state_proof(&self, namespace: &Address, key: &[u8]) -> Result<StateProof, Error> {
        let value = self
            .call("vellum_getProof", rpc_params![hex(namespace), hex(key)])
            .await?;
        bundle("vellum_getProof", value, StateProof::from_bytes)
    }

    /// A read-only contract query.
    pub async fn query(
        &self,
        contract: &Address,
        method: &str,
        args: Value,
    ) -> Result<Value, Error> {
        self.call("vellum_query", rpc_params![hex(contract), method, args])
            .await
    }

    /// A read-only contract query against the state after the block at `height` (any height
    /// the node retains), as it was then: the contract's code and storage of that block.
    pub async fn query_at(
        &self,
        contract: &Address,
        method: &str,
        args: Value,
        height: u64,
    ) -> Result<Value, Error> {
        self.call(
            "vellum_query",
            rpc_params![hex(contract), method, args, height],
        )
        .await
    }

    /// Subscribe to blocks from `from` (or the next one) over WebSocket.
    pub async fn blocks(
        &self,
        from: Option<u64>,
    ) -> Result<(WsClient, Subscription<Value>), Error> {
        let mut builder = WsClientBuilder::default().set_headers(self.headers.clone());
        if let Trust::Ca(config) = &self.trust {
            builder = builder.with_custom_cert_store(config.as_ref().clone());
        }
        // http:// becomes ws://, https:// wss://.
        let ws = builder
            .build(self.url.replacen("http", "ws", 1))
            .await
            .map_err(Error::WebSocket)?;
        let subscription = ws
            .subscribe(
                "vellum_subscribeBlocks",
                rpc_params![from],
                "vellum_unsubscribeBlocks",
            )
            .await
            .map_err(|error| Error::call("vellum_subscribeBlocks", error))?;
        Ok((ws, subscription))
    }
}

/// Signs transactions for one identity, counting its nonces.
pub struct Signer {
    key: SigningKey,
    account: Address,
    chain_id: String,
    nonce: u64,
    /// Fuel each transaction asks for.
    pub fuel: u64,
}

impl Signer {
    /// A signer for `key` on `client`'s chain, starting at its account's next nonce. Its
    /// account is the key's own address, or the account that rotated to the key
    /// (`vellum_getAccount` names it).
    pub async fn new(key: SigningKey, client: &Client) -> Result<Self, Error> {
        let own = address_of(&public_key(&key));
        let unexpected = |value: &Value| Error::Unexpected {
            method: "vellum_getAccount".into(),
            value: value.clone(),
        };
        let (account, nonce) = match client
            .call("vellum_getAccount", rpc_params![hex(&own)])
            .await
        {
            Ok(found) => {
                // The member this key signs for now: an account that rotated away from it
                // names another key, and its transactions would be refused.
                if found["public_key"].as_str() != Some(hex(&public_key(&key)).as_str()) {
                    return Err(Error::KeyRotated {
                        account: found["address"].as_str().unwrap_or_default().to_string(),
                    });
                }
                let account = found["address"]
                    .as_str()
                    .and_then(|a| parse_address(a).ok());
                match (account, found["nonce"].as_u64()) {
                    (Some(account), Some(nonce)) => (account, nonce),
                    _ => return Err(unexpected(&found)),
                }
            }
            // Not a member (yet), or a node that does not say: transactions it signs name its
            // own address.
            Err(Error::Rpc {
                code: code::NOT_FOUND | code::READ_REFUSED,
                ..
            }) => (own, client.nonce(&own).await?),
            Err(error) => return Err(error),
        };
        Ok(Self {
            key,
            account,
            chain_id: client.chain_id().to_string(),
            nonce,
            fuel: DEFAULT_FUEL,
        })
    }

    /// A signer for the key in `path` (hex, as `vellum init` and `vellum keys new` write).
    pub async fn load(path: &Path, client: &Client) -> Result<Self, Error> {
        Self::new(read_member_key(path)?, client).await
    }

    /// Its account's address: what contracts see as the caller of its transactions.
    pub fn address(&self) -> Address {
        self.account
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

/// Read a member's transaction key file (`0x` hex of the 32-byte secp256k1 secret).
pub fn read_member_key(path: &Path) -> Result<SigningKey, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::KeyFile {
        path: path.to_path_buf(),
        source,
    })?;
    unhex(text.trim())
        .and_then(|bytes| SigningKey::from_slice(&bytes).ok())
        .ok_or_else(|| Error::BadKey {
            path: path.to_path_buf(),
        })
}

/// An address from `0x` hex.
pub fn parse_address(text: &str) -> Result<Address, Error> {
    unhex32(text).ok_or_else(|| Error::BadAddress(text.to_string()))
}

/// Why a receipt (JSON, as `vellum_getTransactionReceipt` answers) is not a success, in one
/// line: its status and its error's text (and code, for a contract's error); `None` for a
/// success.
pub fn receipt_failure(receipt: &Value) -> Option<String> {
    let status = receipt["status"].as_str().unwrap_or("unknown status");
    if status == "success" {
        return None;
    }
    let error = &receipt["error"];
    let why = match (error["code"].as_u64(), error["message"].as_str()) {
        (Some(code), Some(message)) => format!("error {code}: {message}"),
        (None, Some(message)) => message.to_string(),
        _ if error.is_null() => "no reason given".to_string(),
        // A node from before the one shape sent text for all but a contract's own error.
        _ => error
            .as_str()
            .map_or_else(|| error.to_string(), str::to_string),
    };
    Some(format!("{status}: {why}"))
}

/// The proof bundle in `value`'s `proof` field (hex), decoded by `decode`.
fn bundle<T, E>(
    method: &str,
    value: Value,
    decode: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Result<T, Error> {
    value["proof"]
        .as_str()
        .and_then(unhex)
        .and_then(|bytes| decode(&bytes).ok())
        .ok_or(Error::Unexpected {
            method: method.into(),
            value,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_receipts_failure_is_one_line_for_every_status() {
        let contract =
            json!({"status": "contract_error", "error": {"code": 5, "message": "no such lot"}});
        assert_eq!(
            receipt_failure(&contract).as_deref(),
            Some("contract_error: error 5: no such lot")
        );
        let fuel = json!({"status": "out_of_fuel", "error": {"code": null, "message": "used all its fuel"}});
        assert_eq!(
            receipt_failure(&fuel).as_deref(),
            Some("out_of_fuel: used all its fuel")
        );
        let silent = json!({"status": "trap", "error": null});
        assert_eq!(
            receipt_failure(&silent).as_deref(),
            Some("trap: no reason given")
        );
        let older = json!({"status": "refused", "error": "nonce too low"});
        assert_eq!(
            receipt_failure(&older).as_deref(),
            Some("refused: nonce too low")
        );
        assert_eq!(receipt_failure(&json!({"status": "success"})), None);
    }
}
