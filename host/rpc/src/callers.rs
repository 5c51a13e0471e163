//! Who is calling: a request that carries `authorization: Vellum 0x…` (a
//! [`CallerToken`](vellum_types::caller::CallerToken)) is checked before JSON-RPC sees it (the
//! chain, the audience, the signature, the expiry, and that the key is a member's), and its
//! methods then know
//! the caller ([`Caller`]); a request whose token is refused gets HTTP 401 with the reason. A
//! request without one is anonymous: queries run with the zero address as their caller.
//!
//! A WebSocket connection keeps the caller of its upgrade request; each call on it checks the
//! token's expiry and its key's membership again ([`current_caller`], [`member`]).

use crate::params::error;
use jsonrpsee::{
    server::{HttpBody, HttpResponse},
    types::ErrorObjectOwned,
};
use std::sync::Arc;
use vellum_ledger::{Member, Store};
use vellum_types::{caller::CallerToken, hex, rpc::code, Address, PublicKey};

/// The caller a request proved itself to be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller {
    /// Its account's address.
    pub(crate) address: Address,
    /// The key its token was signed with (the account's key when the request arrived).
    pub(crate) public_key: PublicKey,
    /// When its token expires (ms since the Unix epoch).
    pub(crate) expires_ms: u64,
    /// Whether its token is bound to this node's organisation (rather than to any node).
    pub(crate) bound: bool,
}

/// Milliseconds since the Unix epoch, by this machine's clock (tokens are checked against it;
/// nothing in consensus reads it).
fn now_ms() -> u64 {
    std::time::UNIX_EPOCH
        .elapsed()
        .map_or(0, |d| d.as_millis() as u64)
}

/// The caller of `extensions` as a query sees it: the zero address for an anonymous one, and an
/// error for one that is no longer a member with this key (removed, its organisation left, or
/// its key rotated, while its WebSocket connection stayed open).
pub(crate) fn current_caller(
    store: &Store,
    extensions: &http::Extensions,
) -> Result<Address, ErrorObjectOwned> {
    let Some(caller) = unexpired(extensions)? else {
        return Ok([0; 32]);
    };
    let Some((account, _)) = store
        .signer(&caller.public_key)
        .map_err(crate::params::internal)?
    else {
        return Err(error(
            code::UNAUTHORIZED,
            "Unauthorized",
            format!(
                "the caller token's key no longer signs for member {} of this network (removed, \
                 its organisation left, or its key rotated): reconnect without a token, or with \
                 a current member key's",
                hex(&caller.address)
            ),
        ));
    };
    Ok(account)
}

/// The member the caller of `extensions` is now, `None` if anonymous or no longer a member with
/// its token's key (the membership is read again on each call, so a member removed or rotated
/// during a WebSocket connection stops being one), and whether its token is bound to this
/// node's organisation.
pub(crate) fn member(
    store: &Store,
    extensions: &http::Extensions,
) -> Result<(Option<Member>, bool), ErrorObjectOwned> {
    let Some(caller) = unexpired(extensions)? else {
        return Ok((None, false));
    };
    let member = store
        .signer(&caller.public_key)
        .map_err(crate::params::internal)?
        .map(|(_, member)| member);
    Ok((member, caller.bound))
}

/// The caller of a call, `None` if anonymous, or an error if its token has expired.
fn unexpired(extensions: &http::Extensions) -> Result<Option<Caller>, ErrorObjectOwned> {
    match extensions.get::<Caller>() {
        None => Ok(None),
        Some(caller) if caller.expires_ms > now_ms() => Ok(Some(*caller)),
        Some(_) => Err(error(
            code::UNAUTHORIZED,
            "Unauthorized",
            "the caller token of this connection expired: sign a new one and reconnect",
        )),
    }
}

/// The gate that checks each request's caller token (see the module's documentation): tokens
/// for `chain_id` and for any node or `organisation`'s (this node's), whose keys must be members
/// in `store`.
pub(crate) fn gate(
    chain_id: &str,
    organisation: Option<String>,
    store: Arc<Store>,
) -> crate::gates::Layer {
    let chain_id: Arc<str> = chain_id.into();
    let organisation: Option<Arc<str>> = organisation.map(Into::into);
    crate::gates::Layer::new(move |head| {
        match check(&chain_id, organisation.as_deref(), &store, &head.headers) {
            Ok(caller) => {
                if let Some(caller) = caller {
                    head.extensions.insert(caller);
                }
                None
            }
            Err(reason) => {
                let mut response = HttpResponse::new(HttpBody::from(reason));
                *response.status_mut() = http::StatusCode::UNAUTHORIZED;
                Some(response)
            }
        }
    })
}

/// The caller `headers` prove, `None` for an anonymous request, or why it is refused.
fn check(
    chain_id: &str,
    organisation: Option<&str>,
    store: &Store,
    headers: &http::HeaderMap,
) -> Result<Option<Caller>, String> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    let Some(token) = text.strip_prefix("Vellum ") else {
        return Err("authorization must be `Vellum 0x…` (a caller token, docs/rpc.md)".into());
    };
    let token = CallerToken::decode(token).map_err(|e| e.to_string())?;
    let key = token
        .verify(chain_id, organisation, now_ms())
        .map_err(|e| e.to_string())?;
    match store.signer(&token.claim.public_key) {
        Ok(Some((address, _))) => Ok(Some(Caller {
            address,
            public_key: token.claim.public_key,
            expires_ms: token.claim.expires_ms,
            bound: token.claim.audience.is_some(),
        })),
        Ok(None) => Err(format!(
            "the caller token's key (address {}) is not a member of this network: never added, \
             removed, its organisation left, or replaced by a key rotation",
            hex(&key)
        )),
        Err(e) => Err(format!("the node cannot read its members: {e}")),
    }
}
