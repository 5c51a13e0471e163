//! What the server answers before JSON-RPC sees a request: `GET /metrics`, and refusals of
//! requests from browsers on other origins or to unknown host names.
//!
//! **Metrics**: `GET /metrics` is answered with Prometheus text.
//!
//! **Origins and hosts**: any page a user opens can send requests to `127.0.0.1`; the browser
//! adds an `Origin` header naming the page. A request whose `Origin` is not the node's own
//! address (the `Host` it was sent to) is refused, so only pages the node serves itself may
//! call it; clients that are not browsers send no `Origin` and are unaffected. DNS rebinding (a
//! page whose name is made to resolve to `127.0.0.1`, so that its origin *is* the host) is
//! closed by the `Host` check: a request must name the node by an IP address, `localhost`, or
//! one of the names the operator allows (`Limits::hosts`).

use jsonrpsee::{
    core::BoxError,
    server::{HttpBody, HttpRequest, HttpResponse},
};
use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

/// Looks at a request's head (and may add to its extensions): a response ends the request
/// there; `None` passes it on.
type Answer = Arc<dyn Fn(&mut http::request::Parts) -> Option<HttpResponse> + Send + Sync>;

/// Answers the requests `answer` takes (it returns a response), and passes the rest on.
#[derive(Clone)]
pub struct Layer {
    answer: Answer,
}

impl Layer {
    /// A gate that runs `answer` on each request's head.
    pub(crate) fn new(
        answer: impl Fn(&mut http::request::Parts) -> Option<HttpResponse> + Send + Sync + 'static,
    ) -> Self {
        Self {
            answer: Arc::new(answer),
        }
    }

    /// `GET /metrics` answered with `encode()`.
    pub fn metrics(encode: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self {
            answer: Arc::new(move |head| {
                (head.method == http::Method::GET && head.uri.path() == "/metrics").then(|| {
                    let mut response = HttpResponse::new(HttpBody::from(encode()));
                    response.headers_mut().insert(
                        "content-type",
                        http::HeaderValue::from_static("text/plain; version=0.0.4"),
                    );
                    response
                })
            }),
        }
    }

    /// The explorer: `GET` of one of its files ([`EXPLORER`]; `/` is its page) answered with
    /// the file, embedded in the binary. With `dir` set (`VELLUM_EXPLORER_DIR`, for working on
    /// the explorer) the files are read from there on each request instead. A WebSocket upgrade
    /// (also a `GET /`) passes on.
    pub fn explorer(dir: Option<std::path::PathBuf>) -> Self {
        Self {
            answer: Arc::new(move |head| {
                if head.method != http::Method::GET
                    || head.headers.contains_key(http::header::UPGRADE)
                {
                    return None;
                }
                let (path, content_type, embedded) = EXPLORER
                    .iter()
                    .find(|(path, _, _)| *path == head.uri.path())?;
                let body = match &dir {
                    Some(dir) => {
                        let file = if *path == "/" {
                            "index.html"
                        } else {
                            &path[1..]
                        };
                        std::fs::read(dir.join(file)).unwrap_or_default()
                    }
                    None => embedded.to_vec(),
                };
                let mut response = HttpResponse::new(HttpBody::from(body));
                let set = |response: &mut HttpResponse, name, value| {
                    response
                        .headers_mut()
                        .insert(name, http::HeaderValue::from_static(value));
                };
                set(&mut response, http::header::CONTENT_TYPE, content_type);
                set(&mut response, http::header::CACHE_CONTROL, "no-cache");
                set(
                    &mut response,
                    http::header::X_CONTENT_TYPE_OPTIONS,
                    "nosniff",
                );
                set(&mut response, http::header::CONTENT_SECURITY_POLICY, CSP);
                Some(response)
            }),
        }
    }

    /// HTTP 403 for a request from another origin or to a host name that is neither an IP
    /// address, `localhost`, nor one of `hosts`.
    pub fn origins(hosts: Vec<String>) -> Self {
        Self {
            answer: Arc::new(move |head| {
                let reason = refusal(&hosts, &head.uri, &head.headers)?;
                let mut response = HttpResponse::new(HttpBody::from(reason));
                *response.status_mut() = http::StatusCode::FORBIDDEN;
                Some(response)
            }),
        }
    }
}

/// The explorer's files: (path, content type, bytes).
pub const EXPLORER: [(&str, &str, &[u8]); 4] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../explorer/index.html"),
    ),
    (
        "/explorer.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../explorer/explorer.js"),
    ),
    (
        "/explorer.css",
        "text/css; charset=utf-8",
        include_bytes!("../explorer/explorer.css"),
    ),
    (
        "/sha3.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../explorer/sha3.js"),
    ),
];

/// What the explorer's page may load and reach: its own files and its own node (JSON-RPC over
/// HTTP and WebSocket), nothing else; no inline script, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The name part of a `Host` header: without its port, and without the brackets of an IPv6
/// literal.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Why a request may not pass, if it may not.
fn refusal(hosts: &[String], uri: &http::Uri, headers: &http::HeaderMap) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
    };
    // HTTP/1.1 requires Host; an absolute URI carries it too.
    let host = header("host")
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let name = host_name(&host);
    let known = name.parse::<std::net::IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || hosts.iter().any(|h| h.eq_ignore_ascii_case(name));
    if !known {
        return Some(format!(
            "host `{name}` is not allowed: reach the node by IP address or localhost, or add the name to rpc_hosts in its configuration"
        ));
    }
    let origin = header("origin")?;
    let same = [format!("http://{host}"), format!("https://{host}")]
        .iter()
        .any(|own| own.eq_ignore_ascii_case(&origin));
    (!same).then(|| {
        format!(
            "origin `{origin}` is not allowed: only pages served by this node may call it from a browser"
        )
    })
}

impl<S> tower::Layer<S> for Layer {
    type Service = Service<S>;

    fn layer(&self, inner: S) -> Service<S> {
        Service {
            inner,
            answer: self.answer.clone(),
        }
    }
}

/// The service [`Layer`] wraps around the rest.
#[derive(Clone)]
pub struct Service<S> {
    inner: S,
    answer: Answer,
}

impl<S, B> tower::Service<HttpRequest<B>> for Service<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let (mut head, body) = request.into_parts();
        if let Some(response) = (self.answer)(&mut head) {
            return Box::pin(async move { Ok(response) });
        }
        let future = self.inner.call(HttpRequest::from_parts(head, body));
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_lose_their_port_and_brackets() {
        assert_eq!(host_name("127.0.0.1:8100"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8100"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("rpc.bank.example:443"), "rpc.bank.example");
    }
}
