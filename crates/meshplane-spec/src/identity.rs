//! Resource identity: which App Mesh resource a spec, a proxy or an error is about.
//!
//! Both the full ARN `arn:aws:appmesh:<region>:<account>:mesh/<mesh>/virtualNode/<name>`
//! and the short form `mesh/<mesh>/virtualNode/<name>` parse to the same
//! [`ResourceId`]; the account missing from the short form comes from
//! [`ArnContext`], the deployment's configured defaults.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceKind {
    Mesh,
    VirtualService,
    VirtualNode,
    VirtualRouter,
    Route,
    VirtualGateway,
    GatewayRoute,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::Mesh,
        ResourceKind::VirtualService,
        ResourceKind::VirtualNode,
        ResourceKind::VirtualRouter,
        ResourceKind::Route,
        ResourceKind::VirtualGateway,
        ResourceKind::GatewayRoute,
    ];

    /// The segment used in ARNs (`virtualNode`, `gatewayRoute`, ...).
    pub fn arn_segment(self) -> &'static str {
        match self {
            ResourceKind::Mesh => "mesh",
            ResourceKind::VirtualService => "virtualService",
            ResourceKind::VirtualNode => "virtualNode",
            ResourceKind::VirtualRouter => "virtualRouter",
            ResourceKind::Route => "route",
            ResourceKind::VirtualGateway => "virtualGateway",
            ResourceKind::GatewayRoute => "gatewayRoute",
        }
    }

    /// The parent kind for kinds that live under another resource.
    pub fn parent_kind(self) -> Option<ResourceKind> {
        match self {
            ResourceKind::Route => Some(ResourceKind::VirtualRouter),
            ResourceKind::GatewayRoute => Some(ResourceKind::VirtualGateway),
            _ => None,
        }
    }

    fn from_segment(s: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| k.arn_segment() == s)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.arn_segment())
    }
}

/// Defaults for the parts of an ARN a short-form identity leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArnContext {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Default for ArnContext {
    fn default() -> Self {
        ArnContext {
            partition: "aws".to_owned(),
            region: "us-east-1".to_owned(),
            account: "000000000000".to_owned(),
        }
    }
}

/// The identity of one App Mesh resource.
///
/// `owner` is the account that owns the mesh (`mesh/<mesh>@<owner>` in shared
/// meshes, else the ARN's account, else the configured default account).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceId {
    pub mesh: String,
    pub owner: String,
    pub kind: ResourceKind,
    /// The virtual router of a route, the virtual gateway of a gateway route.
    pub parent: Option<String>,
    /// The resource's own name (the mesh name for a mesh).
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("'{0}' is not an App Mesh ARN or short resource name (expected arn:aws:appmesh:<region>:<account>:mesh/<mesh>/<kind>/<name> or mesh/<mesh>/<kind>/<name>)")]
    Malformed(String),
    #[error("'{input}': unknown resource kind '{kind}' (expected one of virtualNode, virtualService, virtualRouter, route, virtualGateway, gatewayRoute)")]
    UnknownKind { input: String, kind: String },
    #[error("'{0}': a name segment is empty")]
    EmptySegment(String),
    #[error("'{input}': {reason}")]
    Account { input: String, reason: String },
}

/// Checks that `s` is an AWS account ID, which App Mesh requires for a mesh
/// owner and every ARN: exactly 12 digits. The error says what is wrong.
pub fn check_account_id(s: &str) -> Result<(), String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("'{s}' is not an AWS account ID (12 digits)"))
    }
}

impl ResourceId {
    pub fn mesh(mesh: &str, owner: &str) -> ResourceId {
        ResourceId {
            mesh: mesh.to_owned(),
            owner: owner.to_owned(),
            kind: ResourceKind::Mesh,
            parent: None,
            name: mesh.to_owned(),
        }
    }

    pub fn new(mesh: &str, owner: &str, kind: ResourceKind, name: &str) -> ResourceId {
        ResourceId {
            mesh: mesh.to_owned(),
            owner: owner.to_owned(),
            kind,
            parent: None,
            name: name.to_owned(),
        }
    }

    pub fn child(
        mesh: &str,
        owner: &str,
        kind: ResourceKind,
        parent: &str,
        name: &str,
    ) -> ResourceId {
        ResourceId {
            mesh: mesh.to_owned(),
            owner: owner.to_owned(),
            kind,
            parent: Some(parent.to_owned()),
            name: name.to_owned(),
        }
    }

    /// Parses a full ARN or a short form; the short form's owner is `ctx.account`.
    pub fn parse(input: &str, ctx: &ArnContext) -> Result<ResourceId, IdentityError> {
        let malformed = || IdentityError::Malformed(input.to_owned());
        let (resource, arn_account) = if let Some(rest) = input.strip_prefix("arn:") {
            // arn:<partition>:appmesh:<region>:<account>:<resource>
            let mut parts = rest.splitn(5, ':');
            let _partition = parts.next().ok_or_else(malformed)?;
            let service = parts.next().ok_or_else(malformed)?;
            let _region = parts.next().ok_or_else(malformed)?;
            let account = parts.next().ok_or_else(malformed)?;
            let resource = parts.next().ok_or_else(malformed)?;
            if service != "appmesh" {
                return Err(malformed());
            }
            (resource, Some(account))
        } else {
            (input, None)
        };
        let segments: Vec<&str> = resource.split('/').collect();
        if segments.first() != Some(&"mesh") || segments.len() < 2 {
            return Err(malformed());
        }
        if segments.iter().any(|s| s.is_empty()) {
            return Err(IdentityError::EmptySegment(input.to_owned()));
        }
        let (mesh, owner) = match segments[1].split_once('@') {
            Some((mesh, owner)) => (mesh, owner),
            None => (segments[1], arn_account.unwrap_or(&ctx.account)),
        };
        if mesh.is_empty() || owner.is_empty() {
            return Err(IdentityError::EmptySegment(input.to_owned()));
        }
        check_account_id(owner).map_err(|reason| IdentityError::Account {
            input: input.to_owned(),
            reason,
        })?;
        let kind_at = |i: usize| {
            ResourceKind::from_segment(segments[i]).ok_or_else(|| IdentityError::UnknownKind {
                input: input.to_owned(),
                kind: segments[i].to_owned(),
            })
        };
        match segments.len() {
            2 => Ok(ResourceId::mesh(mesh, owner)),
            4 => {
                let kind = kind_at(2)?;
                if kind == ResourceKind::Mesh || kind.parent_kind().is_some() {
                    return Err(malformed());
                }
                Ok(ResourceId::new(mesh, owner, kind, segments[3]))
            }
            6 => {
                let parent_kind = kind_at(2)?;
                let kind = kind_at(4)?;
                if kind.parent_kind() != Some(parent_kind) {
                    return Err(malformed());
                }
                Ok(ResourceId::child(
                    mesh,
                    owner,
                    kind,
                    segments[3],
                    segments[5],
                ))
            }
            _ => Err(malformed()),
        }
    }

    /// The resource part of the ARN: `mesh/<mesh>/virtualNode/<name>`.
    pub fn short(&self) -> String {
        let mut s = format!("mesh/{}", self.mesh);
        if self.kind == ResourceKind::Mesh {
            return s;
        }
        if let (Some(parent), Some(parent_kind)) = (&self.parent, self.kind.parent_kind()) {
            s.push_str(&format!("/{}/{}", parent_kind.arn_segment(), parent));
        }
        s.push_str(&format!("/{}/{}", self.kind.arn_segment(), self.name));
        s
    }

    /// The full ARN in the given partition and region.
    pub fn arn(&self, ctx: &ArnContext) -> String {
        format!(
            "arn:{}:appmesh:{}:{}:{}",
            ctx.partition,
            ctx.region,
            self.owner,
            self.short()
        )
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ArnContext {
        ArnContext {
            account: "111122223333".into(),
            ..ArnContext::default()
        }
    }

    #[test]
    fn full_and_short_forms_are_the_same_identity() {
        let full = ResourceId::parse(
            "arn:aws:appmesh:eu-west-1:111122223333:mesh/apps/virtualNode/serviceA",
            &ctx(),
        )
        .unwrap();
        let short = ResourceId::parse("mesh/apps/virtualNode/serviceA", &ctx()).unwrap();
        assert_eq!(full, short);
        assert_eq!(short.kind, ResourceKind::VirtualNode);
        assert_eq!(short.name, "serviceA");
        assert_eq!(
            short.arn(&ctx()),
            "arn:aws:appmesh:us-east-1:111122223333:mesh/apps/virtualNode/serviceA"
        );
    }

    #[test]
    fn children_and_shared_meshes() {
        let route =
            ResourceId::parse("mesh/apps@444455556666/virtualRouter/r/route/web", &ctx()).unwrap();
        assert_eq!(route.owner, "444455556666");
        assert_eq!(route.parent.as_deref(), Some("r"));
        assert_eq!(route.kind, ResourceKind::Route);
        assert_eq!(route.short(), "mesh/apps/virtualRouter/r/route/web");
        let gr = ResourceId::parse("mesh/m/virtualGateway/gw/gatewayRoute/x", &ctx()).unwrap();
        assert_eq!(gr.kind, ResourceKind::GatewayRoute);
        let mesh =
            ResourceId::parse("arn:aws:appmesh:us-west-2:123456789012:mesh/m", &ctx()).unwrap();
        assert_eq!(mesh.kind, ResourceKind::Mesh);
        assert_eq!(mesh.owner, "123456789012");
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(check_account_id("123456789012").is_ok());
        for bad in [
            "",
            "1",
            "12345678901",
            "1234567890123",
            "not-an-account",
            "12345678901a",
        ] {
            let err = check_account_id(bad).unwrap_err();
            assert!(err.contains("12 digits"), "{err}");
        }
        let err = ResourceId::parse("arn:aws:appmesh:us-east-1:not-an-account:mesh/m", &ctx())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "'arn:aws:appmesh:us-east-1:not-an-account:mesh/m': 'not-an-account' is not an AWS account ID (12 digits)"
        );
    }

    #[test]
    fn malformed_identities_are_errors() {
        for bad in [
            "",
            "mesh",
            "mesh//virtualNode/a",
            "mesh/m/virtualNode",
            "mesh/m/virtualThing/a",
            "mesh/m/route/a",
            "mesh/m/virtualNode/a/route/b",
            "arn:aws:s3:::bucket",
            "virtualNode/a",
            "arn:aws:appmesh:us-east-1:not-an-account:mesh/m",
            "arn:aws:appmesh:us-east-1:1234:mesh/m/virtualNode/a",
            "mesh/m@12345678901x/virtualNode/a",
        ] {
            assert!(
                ResourceId::parse(bad, &ctx()).is_err(),
                "{bad} should not parse"
            );
        }
    }
}
