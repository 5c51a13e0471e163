//! The server's own accept loop: a bounded number of TCP connections, each closed once it has
//! been silent for too long, and none held by a client that says nothing.
//!
//! jsonrpsee's own loop counts requests and WebSockets, not sockets, and closes only a connection
//! that never completes a first request; an idle keep-alive connection, or one that trickles
//! nothing after its first request, would hold a file descriptor (shared with p2p and storage)
//! forever. Here every accepted socket takes one of [`Connections`]' permits, and a connection
//! with no byte read or written for `idle_max` is dropped. WebSocket clients stay alive through
//! the server's pings.
//!
//! When every permit is taken, a new socket takes the place of an open connection: one the
//! server never answered (idle since it connected, or still sending its first request's header)
//! before one it did; among those, one of the address (IP) holding the most places; and among
//! those, the one silent longest. So sockets that only hold a place cannot lock clients out,
//! however many one address opens: each newcomer closes the oldest of them. (One address that
//! opens sockets faster than the server answers a newcomer's first request, a connect flood,
//! still displaces newcomers from that same address; from other addresses it displaces only its
//! own.) A new socket waits at most [`ADMISSION_WAIT`] for its place; at most as many wait as
//! there are permits, and one past that is closed at once, as is one that would displace an
//! answered connection while other newcomers still wait.

use std::{
    collections::HashMap,
    io,
    net::IpAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll},
    time::Duration,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{Notify, OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

/// How long a new socket waits for the connection it displaces to close.
pub(crate) const ADMISSION_WAIT: Duration = Duration::from_secs(1);

/// The open connections and their permits.
pub(crate) struct Connections {
    epoch: Instant,
    permits: Arc<Semaphore>,
    max: usize,
    open: Mutex<HashMap<u64, Open>>,
    next: AtomicU64,
    waiting: AtomicUsize,
}

struct Open {
    address: IpAddr,
    activity: Arc<Activity>,
    close: Arc<Notify>,
}

/// A socket let in: it holds a permit while it lives.
pub(crate) enum Admission {
    /// A permit was free, and the socket is already among the open connections (so that a
    /// newcomer admitted before its task runs sees it).
    Ready(Box<Slot>),
    /// A connection was told to close; its permit is this socket's once released.
    Waiting,
}

/// An open connection's place, given up when dropped.
pub(crate) struct Slot {
    connections: Arc<Connections>,
    id: u64,
    _permit: OwnedSemaphorePermit,
    activity: Arc<Activity>,
    close: Arc<Notify>,
}

impl Connections {
    /// Room for `max` connections.
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            permits: Arc::new(Semaphore::new(max)),
            max,
            open: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Open>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Let a new socket from `address` in, displacing an open connection if every permit is
    /// taken; `None` when it must be closed at once.
    pub(crate) fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Admission> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Some(Admission::Ready(Box::new(self.open_slot(address, permit))));
        }
        if self.waiting.load(Ordering::Relaxed) >= self.max {
            return None;
        }
        let victim = {
            let mut open = self.open();
            // Never answered before answered; then the address holding the most places gives
            // one up; then the one silent longest.
            let mut held: HashMap<IpAddr, usize> = HashMap::new();
            for o in open.values() {
                *held.entry(o.address).or_default() += 1;
            }
            let (&id, victim) = open.iter().min_by_key(|(id, o)| {
                (
                    o.activity.answered(),
                    std::cmp::Reverse(held.get(&o.address).copied().unwrap_or(0)),
                    o.activity.last_ms(),
                    **id,
                )
            })?;
            // Sockets still waiting for their place were never answered either: while any
            // waits, a connection that was answered keeps its place and the newcomer is closed.
            if victim.activity.answered() && self.waiting.load(Ordering::Relaxed) > 0 {
                return None;
            }
            open.remove(&id)?
        };
        victim.close.notify_one();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Some(Admission::Waiting)
    }

    /// The place `admission` promised to a socket from `address`, once its permit is free
    /// (`None` if that took longer than [`ADMISSION_WAIT`]).
    pub(crate) async fn place(
        self: &Arc<Self>,
        admission: Admission,
        address: IpAddr,
    ) -> Option<Slot> {
        // A waiting socket stops counting as waiting only once it is among the open ones (or
        // has given up): in between, a newcomer would see no one waiting and only answered
        // connections open, and displace one of them.
        let permit = match admission {
            Admission::Ready(slot) => return Some(*slot),
            Admission::Waiting => {
                match tokio::time::timeout(ADMISSION_WAIT, self.permits.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(permit)) => permit,
                    _ => {
                        self.waiting.fetch_sub(1, Ordering::Relaxed);
                        return None;
                    }
                }
            }
        };
        let slot = self.open_slot(address, permit);
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        Some(slot)
    }

    /// Record an open connection from `address` holding `permit`.
    fn open_slot(self: &Arc<Self>, address: IpAddr, permit: OwnedSemaphorePermit) -> Slot {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            epoch: self.epoch,
            last_ms: AtomicU64::new(self.epoch.elapsed().as_millis() as u64),
            answered: AtomicBool::new(false),
        });
        let close = Arc::new(Notify::new());
        self.open().insert(
            id,
            Open {
                address,
                activity: activity.clone(),
                close: close.clone(),
            },
        );
        Slot {
            connections: self.clone(),
            id,
            _permit: permit,
            activity,
            close,
        }
    }
}

impl Slot {
    /// The connection's activity.
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Complete when a newcomer displaces this connection.
    pub(crate) async fn displaced(&self) {
        self.close.notified().await
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.open().remove(&self.id);
    }
}

/// A socket that records when it last moved a byte.
pub(crate) struct Watched {
    socket: TcpStream,
    activity: Arc<Activity>,
}

/// When a [`Watched`] socket last moved a byte, and whether the server ever wrote to it.
pub(crate) struct Activity {
    epoch: Instant,
    last_ms: AtomicU64,
    answered: AtomicBool,
}

impl Activity {
    fn touch(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn last_ms(&self) -> u64 {
        self.last_ms.load(Ordering::Relaxed)
    }

    fn answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// Complete once no byte has moved for `idle_max`.
    pub(crate) async fn idle(&self, idle_max: Duration) {
        loop {
            let deadline = self.epoch + Duration::from_millis(self.last_ms()) + idle_max;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

impl Watched {
    pub(crate) fn new(socket: TcpStream, activity: Arc<Activity>) -> Self {
        Self { socket, activity }
    }

    fn wrote(&self) {
        self.activity.touch();
        self.activity.answered.store(true, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.socket).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.socket).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.wrote();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.socket).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_shutdown(cx)
    }
}
