//! The side store of private data (`vellum_types::private`): the payloads this node holds for
//! its organisation's collections, outside the ledger.
//!
//! Each record is one file, `<dir>/<hash>.<expires_at>` (`<hash>` is the salted hash in lower-case
//! hex without `0x`, `<expires_at>` a decimal height or `never`), holding `borsh(PrivateRecord)`.
//! A file per record, rather than rows of the ledger's redb, so that a purge deletes the bytes
//! from the disk: a copy-on-write B-tree frees the pages of a deleted value but leaves their
//! contents until they are reused. A record is written to `<name>.tmp`, synced, renamed, and the
//! directory synced; leftover `.tmp` files are removed at open. What the store holds is indexed
//! in memory from the file names alone (no file is read at open), and bounded by
//! [`Limits`]. `<dir>/cursor` holds the last height whose purges and expiries were applied.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::{self, File},
    io::{self, Write as _},
    path::{Path, PathBuf},
    sync::Mutex,
};
use vellum_types::{
    hex,
    private::{PrivateError, PrivateRecord},
    Hash,
};

/// How much one node's side store holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Records.
    pub records_max: usize,
    /// Bytes of record files.
    pub bytes_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            records_max: 1_000_000,
            bytes_max: 4 << 30,
        }
    }
}

/// Why the side store failed or refused a record.
#[derive(Debug, thiserror::Error)]
pub enum PrivateStoreError {
    /// The file system failed.
    #[error("private data store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// A record file does not decode, or holds a record whose hash is not its name.
    #[error("private data store: {0} is corrupt")]
    Corrupt(PathBuf),
    /// The record is malformed.
    #[error(transparent)]
    Malformed(#[from] PrivateError),
    /// The store is at its limits.
    #[error(
        "this node's private data store is full ({records} records, {bytes} bytes; at most \
         {records_max} and {bytes_max}): purge records, or raise its limits"
    )]
    Full {
        /// Records held.
        records: usize,
        /// Bytes held.
        bytes: u64,
        /// [`Limits::records_max`].
        records_max: usize,
        /// [`Limits::bytes_max`].
        bytes_max: u64,
    },
}

/// The side store.
pub struct PrivateStore {
    dir: PathBuf,
    limits: Limits,
    index: Mutex<Index>,
}

#[derive(Default)]
struct Index {
    /// Each record's expiry and file size.
    records: BTreeMap<Hash, (Option<u64>, u64)>,
    /// Records with an expiry, by it.
    expiries: BTreeSet<(u64, Hash)>,
    bytes: u64,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PrivateStoreError + '_ {
    move |source| PrivateStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A record file's name.
fn file_name(hash: &Hash, expires_at: Option<u64>) -> String {
    let hash = &hex(hash)[2..];
    match expires_at {
        Some(height) => format!("{hash}.{height}"),
        None => format!("{hash}.never"),
    }
}

/// A record file's hash and expiry, from its name.
fn parse_name(name: &str) -> Option<(Hash, Option<u64>)> {
    let (hash, expires) = name.split_once('.')?;
    let hash = vellum_types::unhex32(&format!("0x{hash}"))?;
    let expires = match expires {
        "never" => None,
        height => Some(height.parse().ok()?),
    };
    Some((hash, expires))
}

impl PrivateStore {
    /// Open (creating it if needed) the store in `dir`.
    pub fn open(dir: &Path, limits: Limits) -> Result<Self, PrivateStoreError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut index = Index::default();
        for entry in fs::read_dir(dir).map_err(io_error(dir))? {
            let entry = entry.map_err(io_error(dir))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.ends_with(".tmp") {
                fs::remove_file(&path).map_err(io_error(&path))?;
                continue;
            }
            let Some((hash, expires_at)) = parse_name(&name) else {
                continue;
            };
            let size = entry.metadata().map_err(io_error(&path))?.len();
            index.insert(hash, expires_at, size);
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            limits,
            index: Mutex::new(index),
        })
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keep `record` (durably, before returning); its salted hash. Keeping a record already
    /// held changes nothing.
    pub fn put(&self, record: &PrivateRecord) -> Result<Hash, PrivateStoreError> {
        record.check()?;
        let hash = record.hash();
        let mut index = self.index();
        if index.records.contains_key(&hash) {
            return Ok(hash);
        }
        let bytes = borsh::to_vec(record).map_err(io_error(&self.dir))?;
        let size = bytes.len() as u64;
        if index.records.len() >= self.limits.records_max
            || index.bytes + size > self.limits.bytes_max
        {
            return Err(PrivateStoreError::Full {
                records: index.records.len(),
                bytes: index.bytes,
                records_max: self.limits.records_max,
                bytes_max: self.limits.bytes_max,
            });
        }
        let path = self.dir.join(file_name(&hash, record.expires_at));
        let temporary = path.with_extension("tmp");
        let mut file = File::create(&temporary).map_err(io_error(&temporary))?;
        file.write_all(&bytes).map_err(io_error(&temporary))?;
        file.sync_all().map_err(io_error(&temporary))?;
        fs::rename(&temporary, &path).map_err(io_error(&path))?;
        self.sync_dir()?;
        index.insert(hash, record.expires_at, size);
        Ok(hash)
    }

    /// The record with salted hash `hash`, if this node holds it.
    pub fn get(&self, hash: &Hash) -> Result<Option<PrivateRecord>, PrivateStoreError> {
        let Some(&(expires_at, _)) = self.index().records.get(hash) else {
            return Ok(None);
        };
        let path = self.dir.join(file_name(hash, expires_at));
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            // Purged since the lookup.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path)(e)),
        };
        let record: PrivateRecord =
            borsh::from_slice(&bytes).map_err(|_| PrivateStoreError::Corrupt(path.clone()))?;
        if record.hash() != *hash {
            return Err(PrivateStoreError::Corrupt(path));
        }
        Ok(Some(record))
    }

    /// Whether it holds the record with salted hash `hash`.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.index().records.contains_key(hash)
    }

    /// Delete the record with salted hash `hash`; whether it held it.
    pub fn purge(&self, hash: &Hash) -> Result<bool, PrivateStoreError> {
        let mut index = self.index();
        let Some((expires_at, size)) = index.records.remove(hash) else {
            return Ok(false);
        };
        if let Some(height) = expires_at {
            index.expiries.remove(&(height, *hash));
        }
        index.bytes -= size;
        let path = self.dir.join(file_name(hash, expires_at));
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path)(e)),
        }
        self.sync_dir()?;
        Ok(true)
    }

    /// Delete every record that expires at `height` or before; their hashes.
    pub fn expire(&self, height: u64) -> Result<Vec<Hash>, PrivateStoreError> {
        let due: Vec<Hash> = self
            .index()
            .expiries
            .range(..=(height, [0xff; 32]))
            .map(|(_, hash)| *hash)
            .collect();
        for hash in &due {
            self.purge(hash)?;
        }
        Ok(due)
    }

    /// Records held, and their bytes.
    pub fn usage(&self) -> (usize, u64) {
        let index = self.index();
        (index.records.len(), index.bytes)
    }

    /// The last height whose purges and expiries were applied (0 at first).
    pub fn cursor(&self) -> Result<u64, PrivateStoreError> {
        let path = self.dir.join("cursor");
        match fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|_| PrivateStoreError::Corrupt(path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    /// Record that the purges and expiries of every height up to `height` were applied.
    pub fn set_cursor(&self, height: u64) -> Result<(), PrivateStoreError> {
        let path = self.dir.join("cursor");
        let temporary = self.dir.join("cursor.tmp");
        fs::write(&temporary, height.to_string()).map_err(io_error(&temporary))?;
        fs::rename(&temporary, &path).map_err(io_error(&path))
    }

    fn sync_dir(&self) -> Result<(), PrivateStoreError> {
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error(&self.dir))
    }
}

impl Index {
    fn insert(&mut self, hash: Hash, expires_at: Option<u64>, size: u64) {
        if let Some(height) = expires_at {
            self.expiries.insert((height, hash));
        }
        self.records.insert(hash, (expires_at, size));
        self.bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(payload: &[u8], expires_at: Option<u64>) -> PrivateRecord {
        PrivateRecord {
            organisations: vec!["org-1".into(), "org-2".into()],
            salt: [payload.len() as u8; 32],
            payload: payload.to_vec(),
            expires_at,
        }
    }

    /// Whether any file under `dir` contains `needle`.
    fn on_disk(dir: &Path, needle: &[u8]) -> bool {
        fs::read_dir(dir).unwrap().any(|entry| {
            let bytes = fs::read(entry.unwrap().path()).unwrap();
            bytes.windows(needle.len()).any(|window| window == needle)
        })
    }

    #[test]
    fn records_survive_a_reopen_and_a_purge_removes_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        let kept = record(b"bill of lading 7", None);
        let purged = record(b"letter of credit 9", Some(10));
        let kept_hash = store.put(&kept).unwrap();
        let purged_hash = store.put(&purged).unwrap();
        assert_eq!(kept_hash, kept.hash());
        assert_eq!(store.put(&kept).unwrap(), kept_hash);
        assert_eq!(store.usage().0, 2);
        drop(store);

        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        assert_eq!(store.get(&kept_hash).unwrap(), Some(kept.clone()));
        assert_eq!(store.get(&purged_hash).unwrap(), Some(purged));
        assert!(on_disk(dir.path(), b"letter of credit 9"));
        assert!(store.purge(&purged_hash).unwrap());
        assert!(!store.purge(&purged_hash).unwrap());
        assert_eq!(store.get(&purged_hash).unwrap(), None);
        assert!(!on_disk(dir.path(), b"letter of credit 9"));
        assert!(on_disk(dir.path(), b"bill of lading 7"));
        assert_eq!(store.usage().0, 1);
    }

    #[test]
    fn records_expire_at_their_height_and_the_cursor_persists() {
        let dir = tempfile::tempdir().unwrap();
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        let early = store.put(&record(b"a", Some(5))).unwrap();
        let late = store.put(&record(b"bb", Some(9))).unwrap();
        let never = store.put(&record(b"ccc", None)).unwrap();
        assert_eq!(store.expire(4).unwrap(), Vec::<Hash>::new());
        assert_eq!(store.expire(5).unwrap(), vec![early]);
        assert_eq!(store.expire(100).unwrap(), vec![late]);
        assert!(store.contains(&never));
        assert_eq!(store.cursor().unwrap(), 0);
        store.set_cursor(100).unwrap();
        drop(store);
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        assert_eq!(store.cursor().unwrap(), 100);
        assert_eq!(store.usage().0, 1);
    }

    #[test]
    fn a_full_store_refuses_and_keeps_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            records_max: 2,
            bytes_max: 1 << 20,
        };
        let store = PrivateStore::open(dir.path(), limits).unwrap();
        let first = store.put(&record(b"1", None)).unwrap();
        store.put(&record(b"22", None)).unwrap();
        let refused = store.put(&record(b"333", None));
        assert!(matches!(
            refused,
            Err(PrivateStoreError::Full { records: 2, .. })
        ));
        assert!(store.get(&first).unwrap().is_some());
        let small = PrivateStore::open(
            tempfile::tempdir().unwrap().path(),
            Limits {
                records_max: 10,
                bytes_max: 10,
            },
        )
        .unwrap();
        assert!(matches!(
            small.put(&record(b"1", None)),
            Err(PrivateStoreError::Full { .. })
        ));
    }

    #[test]
    fn a_malformed_record_or_a_corrupt_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        let mut unsorted = record(b"x", None);
        unsorted.organisations.reverse();
        assert!(matches!(
            store.put(&unsorted),
            Err(PrivateStoreError::Malformed(PrivateError::Names))
        ));
        let hash = store.put(&record(b"y", None)).unwrap();
        let path = dir.path().join(file_name(&hash, None));
        fs::write(&path, b"not borsh").unwrap();
        assert!(matches!(
            store.get(&hash),
            Err(PrivateStoreError::Corrupt(_))
        ));
        fs::write(dir.path().join("left.tmp"), b"half").unwrap();
        drop(store);
        PrivateStore::open(dir.path(), Limits::default()).unwrap();
        assert!(!dir.path().join("left.tmp").exists());
    }
}
