//! What a store holds: resources with their metadata, and clientToken answers.

use meshplane_spec::ResourceId;
use serde::{Deserialize, Serialize};

/// One tag of a resource (`TagRef`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// One stored resource: identity, spec as the API's JSON, and the metadata
/// App Mesh kept for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: ResourceId,
    pub spec: serde_json::Value,
    pub uid: String,
    /// 1 on create, +1 per update.
    pub version: i64,
    /// Epoch seconds.
    pub created_at: f64,
    pub last_updated_at: f64,
    pub tags: Vec<Tag>,
}

/// One change of a commit.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Fails with a conflict if the identity is taken.
    Create(Record),
    /// Replaces the stored resource whose version is `record.version - 1`;
    /// fails with a conflict if it is missing or at another version.
    Update(Record),
    /// Fails with a conflict if the resource is missing.
    Delete(ResourceId),
    /// Replaces the tags (tags do not change a resource's version).
    SetTags(ResourceId, Vec<Tag>),
}

/// The answer a write gave, kept under its clientToken so that a retry with
/// the same token and the same request gets it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentAnswer {
    pub operation: String,
    pub token: String,
    /// A digest of the request (everything but the token).
    pub request_hash: String,
    /// The response body sent.
    pub response: String,
}

/// Every stored resource at one revision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub revision: u64,
    pub records: Vec<Record>,
}

/// What changed in a store after one revision.
#[derive(Debug, Clone, PartialEq)]
pub enum Changes {
    /// Every resource written (created, updated, retagged) after the
    /// revision, as it is now, and every resource deleted after it.
    Since {
        revision: u64,
        written: Vec<Record>,
        deleted: Vec<ResourceId>,
    },
    /// The backend keeps no change history: everything, to replace what
    /// the reader holds.
    Everything(Snapshot),
}

impl Changes {
    /// The store revision these changes bring the reader to.
    pub fn revision(&self) -> u64 {
        match self {
            Changes::Since { revision, .. } => *revision,
            Changes::Everything(s) => s.revision,
        }
    }
}
