//! The compact binary form the hub's derived files share (persisted source views, the search
//! index's records): LEB128 numbers, strings as a length and UTF-8, and a reader that says at
//! which byte a damaged file stopped making sense.

use std::io::{BufRead, Read, Write};

/// Writes numbers, strings and bytes.
pub struct Writer<W> {
    pub output: W,
}

impl<W: Write> Writer<W> {
    pub fn new(output: W) -> Writer<W> {
        Writer { output }
    }

    pub fn bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.output.write_all(bytes)
    }

    pub fn byte(&mut self, b: u8) -> std::io::Result<()> {
        self.output.write_all(&[b])
    }

    pub fn string(&mut self, s: &str) -> std::io::Result<()> {
        self.number(s.len() as u64)?;
        self.output.write_all(s.as_bytes())
    }

    pub fn number(&mut self, mut n: u64) -> std::io::Result<()> {
        let mut bytes = [0u8; 10];
        let mut len = 0;
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                bytes[len] = low;
                len += 1;
                break;
            }
            bytes[len] = low | 0x80;
            len += 1;
        }
        self.output.write_all(&bytes[..len])
    }

    /// A signed number (zigzag: small magnitudes stay short).
    pub fn signed(&mut self, n: i64) -> std::io::Result<()> {
        self.number(((n << 1) ^ (n >> 63)) as u64)
    }
}

/// What is wrong with a damaged file, in words ([`Reader::offset`] says where).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Damaged(pub String);

impl From<String> for Damaged {
    fn from(message: String) -> Damaged {
        Damaged(message)
    }
}

/// For the decoders that build their message up from several reads.
impl From<Damaged> for String {
    fn from(damaged: Damaged) -> String {
        damaged.0
    }
}

impl From<&str> for Damaged {
    fn from(message: &str) -> Damaged {
        Damaged(message.to_owned())
    }
}

/// Reads what a [`Writer`] wrote; errors say what was wrong ([`Reader::offset`] says where).
pub struct Reader<R> {
    input: R,
    /// Bytes read so far.
    pub offset: u64,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader { input, offset: 0 }
    }

    /// Exactly `into.len()` bytes.
    pub fn exact(&mut self, into: &mut [u8]) -> Result<(), Damaged> {
        self.input.read_exact(into).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => "the file ends early".to_owned(),
            _ => e.to_string(),
        })?;
        self.offset += into.len() as u64;
        Ok(())
    }

    pub fn byte(&mut self) -> Result<u8, Damaged> {
        // From the buffer where it can (a start reads millions of numbers a byte at a time).
        if let Some(&b) = self.input.fill_buf().map_err(|e| e.to_string())?.first() {
            self.input.consume(1);
            self.offset += 1;
            return Ok(b);
        }
        Err("the file ends early".into())
    }

    pub fn number(&mut self) -> Result<u64, Damaged> {
        leb128(|| self.byte())?.ok_or_else(|| "a number longer than 64 bits".into())
    }

    pub fn signed(&mut self) -> Result<i64, Damaged> {
        let n = self.number()?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// A count of things that follow, each at least a byte: no larger than a file can hold (a
    /// damaged count must not reserve memory for billions).
    pub fn count(&mut self) -> Result<usize, Damaged> {
        let n = self.number()?;
        usize::try_from(n).ok().filter(|&n| n < (1 << 40)).ok_or_else(|| format!("a count of {n}").into())
    }

    pub fn string(&mut self) -> Result<String, Damaged> {
        let len = self.count()?;
        // Most strings are short and wholly in the buffer: copied from it at once.
        let buffered = self.input.fill_buf().map_err(|e| e.to_string())?;
        if let Some(bytes) = buffered.get(..len) {
            let s = std::str::from_utf8(bytes).map_err(|_| "a string that is not UTF-8".to_owned())?.to_owned();
            self.input.consume(len);
            self.offset += len as u64;
            return Ok(s);
        }
        // Grown as bytes arrive: a damaged length cannot reserve more than the file holds.
        let mut bytes = Vec::with_capacity(len.min(1 << 16));
        let read = (&mut self.input).take(len as u64).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        self.offset += read as u64;
        if read < len {
            return Err("the file ends inside a string".into());
        }
        String::from_utf8(bytes).map_err(|_| "a string that is not UTF-8".into())
    }

    /// The bytes `expected`, or an error saying what they are not.
    pub fn mark(&mut self, expected: &[u8], what: &str) -> Result<(), Damaged> {
        let mut found = vec![0u8; expected.len()];
        self.exact(&mut found)?;
        if found != expected {
            return Err(format!("no {what}").into());
        }
        Ok(())
    }
}

/// A LEB128 number from `byte` (7 bits a byte, lowest first); `None` past 64 bits.
fn leb128<E>(mut byte: impl FnMut() -> Result<u8, E>) -> Result<Option<u64>, E> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = byte()?;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// Reads the same numbers and strings from bytes in memory, borrowing the strings: what a
/// node's properties are read with on every lookup (`None` where the bytes end early or a string
/// is not UTF-8; bytes kept in memory were checked when they were made or read from a file).
#[derive(Debug, Clone)]
pub struct Slice<'a> {
    pub bytes: &'a [u8],
}

impl<'a> Slice<'a> {
    pub fn new(bytes: &'a [u8]) -> Slice<'a> {
        Slice { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    pub fn number(&mut self) -> Option<u64> {
        leb128(|| self.byte().ok_or(())).ok().flatten()
    }

    /// The next `len` bytes.
    pub fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        if len > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Some(taken)
    }

    /// A length and that many bytes of UTF-8.
    pub fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.number()?).ok()?;
        std::str::from_utf8(self.take(len)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_read_back_as_written() {
        let mut w = Writer::new(Vec::new());
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            w.number(n).unwrap();
        }
        for n in [0i64, -1, 1, i64::MIN, i64::MAX] {
            w.signed(n).unwrap();
        }
        w.string("肺がん").unwrap();
        let bytes = w.output;
        let mut r = Reader::new(&bytes[..]);
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.number().unwrap(), n);
        }
        for n in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(r.signed().unwrap(), n);
        }
        assert_eq!(r.string().unwrap(), "肺がん");
        assert_eq!(r.offset, bytes.len() as u64);
        assert_eq!(r.byte().unwrap_err().0, "the file ends early");

        // The borrowed reader reads the same bytes, and says where they end early.
        let mut s = Slice::new(&bytes);
        for n in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(s.number(), Some(n));
        }
        for _ in 0..5 {
            s.number();
        }
        assert_eq!(s.str(), Some("肺がん"));
        assert!(s.is_empty() && s.byte().is_none());
        let string = &bytes[bytes.len() - 10..];
        assert_eq!(Slice::new(string).str(), Some("肺がん"));
        assert_eq!(Slice::new(&string[..9]).str(), None, "a string cut short");
    }
}
