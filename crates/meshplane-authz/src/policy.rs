//! IAM identity-policy documents, as written for App Mesh, and their evaluation.
//!
//! The subset that authorizes Envoy proxies is supported in full: `Version`,
//! `Id`, `Statement` (one object or an array), and per statement `Sid`,
//! `Effect`, `Action`/`NotAction` and `Resource`/`NotResource` with `*` and
//! `?` wildcards. `Condition` is refused rather than ignored: ignoring it
//! would grant more than the author meant. Evaluation follows IAM: an
//! explicit `Deny` wins, then any `Allow`, else the request is implicitly
//! denied. Resources are matched against full ARNs only.

mod parse;

pub use parse::PolicyError;

use crate::glob::Pattern;

/// The App Mesh action an Envoy proxy needs to receive its configuration.
pub const STREAM_AGGREGATED_RESOURCES: &str = "appmesh:StreamAggregatedResources";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// The `Version` element; `2012-10-17` is what every current policy uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    V2012_10_17,
    V2008_10_17,
}

/// `Action` (the listed patterns) or `NotAction` (everything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionMatch {
    Action(Vec<Pattern>),
    NotAction(Vec<Pattern>),
}

/// `Resource` (the listed ARN patterns) or `NotResource` (everything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceMatch {
    Resource(Vec<Pattern>),
    NotResource(Vec<Pattern>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Position in the document's `Statement` list (0 for a lone object).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionMatch,
    pub resources: ResourceMatch,
}

/// One parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// Where the document came from (a file, or a field of the auth config),
    /// used in messages.
    pub source: String,
    pub id: Option<String>,
    pub version: PolicyVersion,
    pub statements: Vec<Statement>,
}

impl Statement {
    /// Whether this statement is about `action` on `resource_arn`.
    pub fn applies_to(&self, action: &str, resource_arn: &str) -> bool {
        let action_hit = match &self.actions {
            ActionMatch::Action(ps) => ps.iter().any(|p| p.matches(action)),
            ActionMatch::NotAction(ps) => !ps.iter().any(|p| p.matches(action)),
        };
        action_hit
            && match &self.resources {
                ResourceMatch::Resource(ps) => ps.iter().any(|p| p.matches(resource_arn)),
                ResourceMatch::NotResource(ps) => !ps.iter().any(|p| p.matches(resource_arn)),
            }
    }

    /// `statement 'Sid' (Statement[2])` or `Statement[2]`.
    pub fn describe(&self) -> String {
        match &self.sid {
            Some(sid) => format!("statement '{sid}' (Statement[{}])", self.index),
            None => format!("Statement[{}]", self.index),
        }
    }
}

impl PolicyDocument {
    /// Parses a document from its JSON value; `source` names it in messages.
    pub fn from_value(
        value: &serde_json::Value,
        source: &str,
    ) -> Result<PolicyDocument, PolicyError> {
        parse::document(value, source)
    }

    /// Parses a JSON policy text.
    pub fn from_json(text: &str, source: &str) -> Result<PolicyDocument, PolicyError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| PolicyError {
            path: String::new(),
            message: format!("not valid JSON: {e}"),
        })?;
        parse::document(&value, source)
    }
}

/// Which statement decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementRef<'a> {
    pub policy: &'a PolicyDocument,
    pub statement: &'a Statement,
}

impl StatementRef<'_> {
    pub fn describe(&self) -> String {
        format!(
            "{} of policy {}",
            self.statement.describe(),
            self.policy.source
        )
    }
}

/// The outcome of evaluating a set of policies for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    Allowed(StatementRef<'a>),
    ExplicitDeny(StatementRef<'a>),
    ImplicitDeny,
}

/// Evaluates the policies attached to one principal like IAM does: the first
/// applicable `Deny` (in order) decides; else the first applicable `Allow`;
/// else implicit deny.
pub fn evaluate<'a, I>(policies: I, action: &str, resource_arn: &str) -> Decision<'a>
where
    I: IntoIterator<Item = &'a PolicyDocument>,
{
    let mut allowed = None;
    for policy in policies {
        for statement in &policy.statements {
            if !statement.applies_to(action, resource_arn) {
                continue;
            }
            let hit = StatementRef { policy, statement };
            match statement.effect {
                Effect::Deny => return Decision::ExplicitDeny(hit),
                Effect::Allow => {
                    allowed.get_or_insert(hit);
                }
            }
        }
    }
    allowed.map_or(Decision::ImplicitDeny, Decision::Allowed)
}
