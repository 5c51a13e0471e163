//! `GET /metrics` on the JSON-RPC port: Prometheus text, answered before JSON-RPC sees the
//! request.

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

type Encode = Arc<dyn Fn() -> String + Send + Sync>;

/// Serves `/metrics` from a registry encoder.
#[derive(Clone)]
pub struct Layer {
    encode: Encode,
}

impl Layer {
    /// A layer answering `GET /metrics` with `encode()`.
    pub fn new(encode: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self {
            encode: Arc::new(encode),
        }
    }
}

impl<S> tower::Layer<S> for Layer {
    type Service = Service<S>;

    fn layer(&self, inner: S) -> Service<S> {
        Service {
            inner,
            encode: self.encode.clone(),
        }
    }
}

/// The service [`Layer`] wraps around JSON-RPC.
#[derive(Clone)]
pub struct Service<S> {
    inner: S,
    encode: Encode,
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
        if request.method() == "GET" && request.uri().path() == "/metrics" {
            let mut response = HttpResponse::new(HttpBody::from((self.encode)()));
            response.headers_mut().insert(
                "content-type",
                http::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            return Box::pin(async move { Ok(response) });
        }
        let future = self.inner.call(request);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}
