//! Reading a multipart form (a file upload and its small fields) with a
//! size limit, for pages that take a file.

use actix_multipart::Multipart;
use futures_util::StreamExt;

/// Why an upload could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadError {
    /// The body was not a readable multipart form.
    Unreadable,
    /// Larger than the limit.
    TooLarge,
}

/// One part of the form: its name, the file name (empty for a plain
/// field) and its bytes.
pub struct Part {
    pub name: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Every part, at most `max` bytes in all.
pub async fn read_parts(mut payload: Multipart, max: usize) -> Result<Vec<Part>, UploadError> {
    let mut parts = Vec::new();
    let mut total = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| UploadError::Unreadable)?;
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).unwrap_or("").to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| UploadError::Unreadable)?;
            total += chunk.len();
            if total > max {
                return Err(UploadError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        parts.push(Part { name, file_name, bytes });
    }
    Ok(parts)
}
