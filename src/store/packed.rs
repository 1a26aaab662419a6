//! Large text columns (`items.text`, `items.article_text`) stored compressed: a value of at
//! least [`MIN_BYTES`] that deflate makes at least a tenth smaller is stored as a BLOB of its raw
//! deflate stream, anything else as TEXT. SQL reads such a column through `veille_text(x)`
//! (registered on every connection), which gives the text back either way.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// Shorter texts are stored as they are (compression would save little).
pub const MIN_BYTES: usize = 256;

/// The stored form of `text`.
pub fn pack(text: &str) -> ToSqlOutput<'_> {
    if text.len() >= MIN_BYTES {
        let mut enc =
            DeflateEncoder::new(Vec::with_capacity(text.len() / 2), Compression::default());
        if enc.write_all(text.as_bytes()).is_ok()
            && let Ok(packed) = enc.finish()
            && packed.len() * 10 <= text.len() * 9
        {
            return ToSqlOutput::Owned(Value::Blob(packed));
        }
    }
    ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()))
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
}
