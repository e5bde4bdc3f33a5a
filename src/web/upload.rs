//! Multipart forms of the council's pages: text fields and uploaded files,
//! read once with a size limit, so every upload form checks the same way.

use std::collections::HashMap;

use actix_multipart::Multipart;
use futures_util::StreamExt;

/// The longest text field kept (longer input is cut, never stored whole).
const MAX_FIELD: usize = 10_000;

/// A file as uploaded: its (cleaned) name and bytes.
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A multipart form as read.
#[derive(Default)]
pub struct Upload {
    fields: HashMap<String, String>,
    files: HashMap<String, File>,
}

/// Why a form could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadError {
    /// The request broke off or is not multipart.
    Broken,
    /// More than the limit, in all.
    TooLarge,
}

impl Upload {
    /// Reads the whole form; `files` names the fields that are files.
    pub async fn read(mut payload: Multipart, files: &[&str], limit: usize) -> Result<Upload, UploadError> {
        let mut upload = Upload::default();
        let mut total = 0usize;
        while let Some(field) = payload.next().await {
            let mut field = field.map_err(|_| UploadError::Broken)?;
            let name = field.name().unwrap_or("").to_owned();
            let file_name = field.content_disposition().and_then(|d| d.get_filename()).unwrap_or("").to_owned();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|_| UploadError::Broken)?;
                total += chunk.len();
                if total > limit {
                    return Err(UploadError::TooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            if files.contains(&name.as_str()) {
                let name_clean = file_name.chars().filter(|c| !c.is_control()).take(100).collect();
                upload.files.insert(name, File { name: name_clean, bytes });
            } else {
                let text = String::from_utf8_lossy(&bytes).trim().chars().take(MAX_FIELD).collect();
                upload.fields.insert(name, text);
            }
        }
        Ok(upload)
    }

    /// A text field, trimmed; empty when absent.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    /// A file that is not empty.
    pub fn take_file(&mut self, name: &str) -> Option<File> {
        self.files.remove(name).filter(|f| !f.bytes.is_empty())
    }
}
