//! Large text columns (`items.text`, `items.article_text`) stored compressed: a value of at
//! least [`MIN_BYTES`] that deflate makes at least a tenth smaller is stored as a BLOB of its raw
//! deflate stream, anything else as TEXT. SQL reads such a column through `veille_text(x)`
//! (registered on every connection), which gives the text back either way.

use std::cell::RefCell;
use std::io::Read;

use flate2::read::DeflateDecoder;
use flate2::{Compress, Compression, FlushCompress, Status};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// Shorter texts are stored as they are (compression would save little).
pub const MIN_BYTES: usize = 256;

thread_local! {
    /// One compressor per thread, reset for every value: building one allocates and clears
    /// some 250 KiB of tables, more work than deflating a typical item's text. The default
    /// level (6): a faster one saved little of the poll's work (docs/performance.md).
    static DEFLATE: RefCell<Compress> = RefCell::new(Compress::new(Compression::default(), false));
}

/// The raw deflate stream of `text` when it is at most nine tenths of its length, else `None`
/// (deflating stops as soon as the output reaches that bound).
fn deflate(text: &[u8]) -> Option<Vec<u8>> {
    let bound = text.len() * 9 / 10;
    DEFLATE.with_borrow_mut(|c| {
        c.reset();
        let mut out = Vec::with_capacity(bound);
        loop {
            let (read, written) = (c.total_in(), c.total_out());
            let rest = text.get(read as usize..)?;
            let status = c.compress_vec(rest, &mut out, FlushCompress::Finish).ok()?;
            if status == Status::StreamEnd {
                return (out.len() <= bound).then_some(out);
            }
            if out.len() == out.capacity() || (c.total_in(), c.total_out()) == (read, written) {
                return None;
            }
        }
    })
}

/// The stored form of `text`.
pub fn pack(text: &str) -> ToSqlOutput<'_> {
    match deflated(text) {
        Some(packed) => ToSqlOutput::Owned(Value::Blob(packed)),
        None => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
    }
}

/// The BLOB [`pack`] stores for `text`, `None` when it stores the text as it is: computed ahead
/// of the write (see `NewItem::prepare`), then stored by [`pack_with`].
pub fn deflated(text: &str) -> Option<Vec<u8>> {
    (text.len() >= MIN_BYTES)
        .then(|| deflate(text.as_bytes()))
        .flatten()
}

/// [`pack`] with the outcome of [`deflated`] for `text` at hand.
pub fn pack_with<'a>(text: &'a str, deflated: Option<&'a [u8]>) -> ToSqlOutput<'a> {
    match deflated {
        Some(packed) => ToSqlOutput::Borrowed(ValueRef::Blob(packed)),
        None => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
    }
}

/// The stored form of an optional text.
pub fn pack_opt(text: Option<&str>) -> ToSqlOutput<'_> {
    match text {
        Some(t) => pack(t),
        None => ToSqlOutput::Owned(Value::Null),
    }
}

/// The text of a stored value (`None` for NULL); a BLOB that does not inflate to UTF-8 is an
/// error, never silently wrong text.
pub fn unpack(v: ValueRef<'_>) -> Result<Option<String>, String> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Blob(b) => {
            let mut out = String::with_capacity(b.len() * 3);
            DeflateDecoder::new(b)
                .read_to_string(&mut out)
                .map_err(|e| format!("a compressed text column does not inflate: {e}"))?;
            Ok(Some(out))
        }
        ValueRef::Integer(i) => Ok(Some(i.to_string())),
        ValueRef::Real(r) => Ok(Some(r.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_stored_deflated_and_read_back_short_ones_as_they_are() {
        let long = "Η Ευρωπαϊκή Ένωση και το ΝΑΤΟ συμφώνησαν να εμβαθύνουν τη συνεργασία τους. "
            .repeat(20);
        let ToSqlOutput::Owned(Value::Blob(b)) = pack(&long) else {
            panic!("not compressed")
        };
        assert!(b.len() * 4 < long.len());
        assert_eq!(
            unpack(ValueRef::Blob(&b)).unwrap().as_deref(),
            Some(long.as_str())
        );
        assert!(matches!(
            pack("short"),
            ToSqlOutput::Borrowed(ValueRef::Text(_))
        ));
        assert!(unpack(ValueRef::Blob(b"not deflate \xff")).is_err());
        assert_eq!(unpack(ValueRef::Null).unwrap(), None);
    }

    fn blob(v: ToSqlOutput<'_>) -> Option<Vec<u8>> {
        match v {
            ToSqlOutput::Owned(Value::Blob(b)) => Some(b),
            _ => None,
        }
    }

    /// Regression (issue 19: one reused compressor instead of a new encoder per value): values
    /// written the old way still read back, and are what it writes; the compressor,
    /// reset between values, packs a value the same whatever was packed before it; a text that
    /// deflate does not make a tenth smaller stays TEXT.
    #[test]
    fn values_packed_before_and_after_the_reused_compressor_read_back() {
        use std::io::Write;
        let news =
            "Le Conseil a adopté le règlement sur la cyber-résilience des produits. ".repeat(12);
        let mut old = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        old.write_all(news.as_bytes()).unwrap();
        let old = old.finish().unwrap();
        assert_eq!(
            unpack(ValueRef::Blob(&old)).unwrap().as_deref(),
            Some(news.as_str())
        );

        let first = blob(pack(&news)).expect("compressed");
        assert_eq!(first, old);
        let other = "Ein anderer Text über Haushaltsfragen der Europäischen Union. ".repeat(9);
        let between = blob(pack(&other)).expect("compressed");
        assert_eq!(blob(pack(&news)), Some(first.clone()));
        assert_eq!(unpack(ValueRef::Blob(&first)).unwrap(), Some(news));
        assert_eq!(unpack(ValueRef::Blob(&between)).unwrap(), Some(other));

        // 300 characters drawn evenly from the 95 printable ASCII ones (a xorshift stream):
        // about 6.6 bits a character plus the code tables, so deflate saves less than a tenth
        // and stops once its output reaches that bound.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: String = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b' ' + (x % 95) as u8)
            })
            .collect();
        assert!(matches!(
            pack(&noise),
            ToSqlOutput::Borrowed(ValueRef::Text(t)) if t == noise.as_bytes()
        ));
    }
}
