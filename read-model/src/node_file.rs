//! A view's nodes in its file ([`crate::ViewFiles`] writes it), each read when asked: memory
//! holds where each node ends, not its bytes.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::node::{Names, Node};

/// Bytes read at once when going through every node (this crate's tests' views are a few
/// hundred bytes: small blocks, so that they span several).
const BLOCK: u64 = if cfg!(test) { 64 } else { 1 << 20 };

/// A view's nodes in its file, each read when asked.
#[derive(Debug)]
pub(crate) struct NodeFile {
    file: File,
    path: PathBuf,
    /// Where the nodes' bytes begin.
    start: u64,
    /// Where each node ends, from `start` (a node begins where the one before it ends).
    ends: Vec<u64>,
    /// Whether a damaged node or a failed read has been said (once per view, not per request).
    said: AtomicBool,
}

impl NodeFile {
    pub(crate) fn new(file: File, path: PathBuf, start: u64, ends: Vec<u64>) -> NodeFile {
        NodeFile { file, path, start, ends, said: AtomicBool::new(false) }
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Where node `i` is, from `start`.
    fn span(&self, i: usize) -> Option<(u64, u64)> {
        let end = *self.ends.get(i)?;
        let begin = if i == 0 { 0 } else { self.ends[i - 1] };
        Some((begin, end))
    }

    pub(crate) fn read(&self, i: usize, names: &Arc<Names>) -> Option<Node> {
        let (begin, end) = self.span(i)?;
        let mut bytes = vec![0; (end - begin) as usize];
        let node = match self.file.read_exact_at(&mut bytes, self.start + begin) {
            Ok(()) => Node::from_bytes(names.clone(), &bytes),
            Err(e) => Err(e.to_string()),
        };
        node.map_err(|e| self.say(i, &e)).ok()
    }

    /// Every node in order, read in blocks of a megabyte or so.
    pub(crate) fn iter<'a>(&'a self, names: &'a Arc<Names>) -> impl Iterator<Item = Node> + Send + 'a {
        let mut block: Vec<u8> = Vec::new();
        // Where `block` begins, from `start`.
        let mut block_at = 0u64;
        (0..self.len()).filter_map(move |i| {
            let (begin, end) = self.span(i)?;
            if end > block_at + block.len() as u64 {
                // The nodes from `begin` up to a block's worth (at least this one).
                let upto = self.ends.partition_point(|&e| e <= begin + BLOCK).max(i + 1);
                let upto = self.ends[upto - 1];
                block.resize((upto - begin) as usize, 0);
                block_at = begin;
                if let Err(e) = self.file.read_exact_at(&mut block, self.start + begin) {
                    block.clear();
                    self.say(i, &e.to_string());
                    return None;
                }
            }
            let bytes = &block[(begin - block_at) as usize..(end - block_at) as usize];
            Node::from_bytes(names.clone(), bytes).map_err(|e| self.say(i, &e)).ok()
        })
    }

    fn say(&self, i: usize, what: &str) {
        if !self.said.swap(true, Ordering::Relaxed) {
            let at = self.start + self.span(i).map_or(0, |(begin, _)| begin);
            tracing::error!(
                file = %self.path.display(),
                "node {i} of the view (at byte {at}) cannot be read: {what}; it reads as absent until the view is projected again (`musubi reindex`)"
            );
        }
    }
}
