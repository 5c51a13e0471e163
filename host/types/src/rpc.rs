//! What the JSON-RPC server and its clients must agree on: error codes and size limits
//! (`docs/rpc.md` documents them).

/// Application error codes (EIP-1474 style); the standard ones (-32700, -32600, -32601,
/// -32602, -32603) keep their JSON-RPC meaning.
pub mod code {
    /// Nothing with that hash, height or address.
    pub const NOT_FOUND: i32 = -32001;
    /// A contract query failed (the contract returned an error, trapped or ran out of fuel).
    pub const QUERY_FAILED: i32 = -32002;
    /// The transaction was refused: encoding, signature, chain, membership, nonce, a full pool.
    pub const TRANSACTION_REJECTED: i32 = -32003;
    /// The transaction was accepted but not committed within the wait.
    pub const TIMEOUT: i32 = -32004;
    /// The caller's token expired during its WebSocket connection (a request with a refused
    /// token gets HTTP 401 before JSON-RPC sees it).
    pub const UNAUTHORIZED: i32 = -32030;
    /// The node's read policy does not let this caller read this (raw storage of a contract,
    /// or the ledger's own records); `data` says who may and how to prove it.
    pub const READ_REFUSED: i32 = -32031;
    /// A private data request was refused: the caller is not a member of an organisation in
    /// the collection, or this node's organisation is not in it (or it has none); `data` says
    /// which.
    pub const PRIVATE_REFUSED: i32 = -32032;
    /// The node is at its bound for this kind of work (queries running at once); retry shortly.
    pub const BUSY: i32 = -32020;
    /// The answer would exceed the node's response budget and cannot be paged (a block asked
    /// for in full); `data` says how to read it in parts.
    pub const RESPONSE_TOO_LARGE: i32 = -32021;
    /// A parameter is malformed (the standard code, with the reason in `data`).
    pub const INVALID_PARAMS: i32 = -32602;
    /// The node failed to read its own store.
    pub const INTERNAL: i32 = -32603;
}

/// Largest request body a node accepts (a deploy carries up to 3 MiB of wasm, hex-encoded).
pub const REQUEST_BYTES_MAX: u32 = 8 << 20;
