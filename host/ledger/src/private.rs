//! The side store of private data (`vellum_types::private`): the payloads this node holds for
//! its organisation's collections, outside the ledger.
//!
//! Each record is one file, `<dir>/<hash>.<expires_at>` (`<hash>` is the salted hash in lower-case
//! hex without `0x`, `<expires_at>` a decimal height or `never`), holding `borsh(PrivateRecord)`.
//! A file per record, rather than rows of the ledger's redb, so that a purge deletes the bytes
//! from the disk: a copy-on-write B-tree frees the pages of a deleted value but leaves their
//! contents until they are reused. Every file is written to `<name>.tmp`, synced, renamed, and
//! the directory synced; leftover `.tmp` files are removed at open. Files are readable by the
//! node's user only (0600, the directory 0700). What the store holds is indexed in memory from
//! the file names alone (no record is read at open), and bounded by [`Limits`].
//!
//! Beside the records:
//! - `<dir>/purged` lists the purges the chain ordered (`<hash> <organisation>` per line, appended
//!   and synced): a record purged by an organisation of its collection is refused if it arrives
//!   again (a late retry, a Byzantine peer), so a purge stays a purge;
//! - `<dir>/cursor` holds the last height whose purges and expiries were applied (absent in a new
//!   store; unreadable, it reads as 0 and the purges are applied again, which changes nothing).

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::{self, File, OpenOptions},
    io::{self, Write as _},
    os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _},
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
         {records_max} and {bytes_max}): purge records (PurgePrivate) or wait for some to expire"
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
    /// The chain ordered this record purged, by an organisation of its collection.
    #[error("private record {0} was purged")]
    Purged(String),
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
    /// The organisations the chain purged each hash for.
    purged: BTreeMap<Hash, BTreeSet<String>>,
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

/// A record file's hash and expiry, from its name, if it is one this store writes (in its
/// canonical form only).
fn parse_name(name: &str) -> Option<(Hash, Option<u64>)> {
    let (hash, expires) = name.split_once('.')?;
    let hash = vellum_types::unhex32(&format!("0x{hash}"))?;
    let expires = match expires {
        "never" => None,
        height => Some(height.parse().ok()?),
    };
    (file_name(&hash, expires) == name).then_some((hash, expires))
}

/// Write `bytes` to `path` durably: to `<path>.tmp` (0600), synced, renamed, and the directory
/// synced.
fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), PrivateStoreError> {
    let temporary = path.with_extension("tmp");
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&temporary);
        return Err(io_error(&temporary)(e));
    }
    fs::rename(&temporary, path).map_err(io_error(path))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), PrivateStoreError> {
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error(dir))
}

impl PrivateStore {
    /// Open (creating it if needed) the store in `dir`.
    pub fn open(dir: &Path, limits: Limits) -> Result<Self, PrivateStoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error(dir))?;
        let mut index = Index::default();
        let purged = dir.join("purged");
        match fs::read_to_string(&purged) {
            Ok(text) => {
                // A line cut short by a crash while appending is ignored.
                for line in text.lines() {
                    let Some((hash, organisation)) = line.split_once(' ') else {
                        continue;
                    };
                    let Some(hash) = vellum_types::unhex32(&format!("0x{hash}")) else {
                        continue;
                    };
                    index
                        .purged
                        .entry(hash)
                        .or_default()
                        .insert(organisation.to_string());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&purged)(e)),
        }
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
    /// held changes nothing; a record the chain purged for an organisation of its collection is
    /// refused.
    pub fn put(&self, record: &PrivateRecord) -> Result<Hash, PrivateStoreError> {
        record.check()?;
        let hash = record.hash();
        let mut index = self.index();
        if index.records.contains_key(&hash) {
            return Ok(hash);
        }
        if index.purged.get(&hash).is_some_and(|by| {
            by.iter()
                .any(|organisation| record.shared_with(organisation))
        }) {
            return Err(PrivateStoreError::Purged(hex(&hash)));
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
        write_durably(&self.dir, &path, &bytes)?;
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
        let Some(&(expires_at, size)) = index.records.get(hash) else {
            return Ok(false);
        };
        // The file first: if it cannot be removed, the index still knows it, and a later purge
        // tries again.
        let path = self.dir.join(file_name(hash, expires_at));
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path)(e)),
        }
        index.records.remove(hash);
        if let Some(height) = expires_at {
            index.expiries.remove(&(height, *hash));
        }
        index.bytes -= size;
        sync_dir(&self.dir)?;
        Ok(true)
    }

    /// Record that the chain purged `hash` for `organisation` (durably): a record of a
    /// collection that includes it is refused from now on. The record itself, if held, is
    /// deleted by [`PrivateStore::purge`].
    pub fn forbid(&self, hash: &Hash, organisation: &str) -> Result<(), PrivateStoreError> {
        let mut index = self.index();
        if index
            .purged
            .get(hash)
            .is_some_and(|by| by.contains(organisation))
        {
            return Ok(());
        }
        let path = self.dir.join("purged");
        let appended = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| {
                writeln!(file, "{} {organisation}", &hex(hash)[2..])?;
                file.sync_all()
            });
        appended.map_err(io_error(&path))?;
        index
            .purged
            .entry(*hash)
            .or_default()
            .insert(organisation.to_string());
        Ok(())
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

    /// The last height whose purges and expiries were applied: `None` in a new store, 0 if the
    /// file cannot be read (applying purges again changes nothing).
    pub fn cursor(&self) -> Result<Option<u64>, PrivateStoreError> {
        let path = self.dir.join("cursor");
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text.trim().parse().unwrap_or(0))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    /// Record (durably) that the purges and expiries of every height up to `height` were
    /// applied.
    pub fn set_cursor(&self, height: u64) -> Result<(), PrivateStoreError> {
        let path = self.dir.join("cursor");
        write_durably(&self.dir, &path, height.to_string().as_bytes())
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
            expires_at,
            nonce: [payload.len() as u8; 32],
            payload: payload.to_vec(),
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
        assert_eq!(store.cursor().unwrap(), None);
        store.set_cursor(100).unwrap();
        drop(store);
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        assert_eq!(store.cursor().unwrap(), Some(100));
        assert_eq!(store.usage().0, 1);
        // A cursor file cut short reads as 0: purges are applied again.
        fs::write(dir.path().join("cursor"), b"").unwrap();
        assert_eq!(store.cursor().unwrap(), Some(0));
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
        // Names this store does not write are not records.
        let upper = file_name(&[0xab; 32], None).to_uppercase();
        fs::write(dir.path().join(&upper), b"x").unwrap();
        fs::write(dir.path().join(format!("{}.+5", &hex(&[1; 32])[2..])), b"x").unwrap();
        drop(store);
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        assert!(!dir.path().join("left.tmp").exists());
        assert_eq!(store.usage().0, 1);
    }

    /// A record purged for an organisation of its collection is refused if it comes again, also
    /// after a reopen; one purged for an organisation outside its collection is not.
    #[test]
    fn a_purge_stays_a_purge() {
        let dir = tempfile::tempdir().unwrap();
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        let shared = record(b"invoice", None);
        let hash = store.put(&shared).unwrap();
        store.forbid(&hash, "org-3").unwrap();
        assert_eq!(store.put(&shared).unwrap(), hash);
        store.forbid(&hash, "org-2").unwrap();
        store.forbid(&hash, "org-2").unwrap();
        assert!(store.purge(&hash).unwrap());
        assert!(matches!(
            store.put(&shared),
            Err(PrivateStoreError::Purged(_))
        ));
        drop(store);
        let store = PrivateStore::open(dir.path(), Limits::default()).unwrap();
        assert!(matches!(
            store.put(&shared),
            Err(PrivateStoreError::Purged(_))
        ));
        assert!(store.put(&record(b"another", None)).is_ok());
        let purged = fs::read_to_string(dir.path().join("purged")).unwrap();
        assert_eq!(purged.lines().count(), 2, "{purged}");
    }

    /// Records and the directory are the node's user's only.
    #[test]
    fn files_are_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("private");
        let store = PrivateStore::open(&store_dir, Limits::default()).unwrap();
        let hash = store.put(&record(b"secret", None)).unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store_dir), 0o700);
        assert_eq!(mode(&store_dir.join(file_name(&hash, None))), 0o600);
    }
}
