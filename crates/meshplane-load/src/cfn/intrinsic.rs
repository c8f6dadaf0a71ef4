//! CloudFormation intrinsic functions, resolved where a template alone
//! decides their value: `Ref` / `Fn::GetAtt` of parameters, pseudo parameters
//! and the template's App Mesh resources, `Fn::Sub`, `Fn::Join`,
//! `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::If` with `Conditions`,
//! `Fn::ImportValue` from the exports loaded together or given by hand.
//! YAML's short forms (`!Ref`, `!GetAtt a.b`, ...) are read as the long ones.
//! Anything else is an error naming the function and why it cannot be known.

use meshplane_spec::{ResourceId, ResourceKind};

use super::template::{appmesh_type, scalar_text, Template};
use crate::node::{Entry, Node, NodeKind};

/// How many `Ref`/`GetAtt` hops between resources may be followed; more is
/// taken to be a cycle.
const MAX_HOPS: usize = 32;

type Eval = Result<Option<Node>, String>;

/// Why a resource's name cannot be known: the property, and the reason.
pub struct NameError {
    pub property: Option<String>,
    pub message: String,
}

pub struct Resolver<'r, 't> {
    pub t: &'r Template<'t>,
}

/// `(function, argument)` when the node is an intrinsic function call.
fn intrinsic(node: &Node) -> Option<(String, &Node)> {
    match &node.kind {
        NodeKind::Tagged(tag, inner) => {
            let name = match tag.as_str() {
                "Ref" | "Condition" => tag.clone(),
                other => format!("Fn::{other}"),
            };
            Some((name, inner))
        }
        NodeKind::Map(entries) if entries.len() == 1 => {
            let e = &entries[0];
            (e.key == "Ref" || e.key == "Condition" || e.key.starts_with("Fn::"))
                .then(|| (e.key.clone(), &e.value))
        }
        _ => None,
    }
}

impl Resolver<'_, '_> {
    /// The value of a tree with every intrinsic resolved; `Ok(None)` for
    /// `AWS::NoValue`.
    pub fn eval(&self, node: &Node, hops: usize) -> Eval {
        if let Some((name, arg)) = intrinsic(node) {
            let value = self.call(&name, arg, hops)?;
            return Ok(value.map(|mut v| {
                relocate(&mut v, node.line);
                v
            }));
        }
        Ok(Some(match &node.kind {
            NodeKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for e in entries {
                    if let Some(value) = self.eval(&e.value, hops)? {
                        out.push(Entry {
                            key: e.key.clone(),
                            source_key: e.source_key.clone(),
                            line: e.line,
                            value,
                        });
                    }
                }
                Node::new(node.line, NodeKind::Map(out))
            }
            NodeKind::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.eval(item, hops)? {
                        out.push(v);
                    }
                }
                Node::new(node.line, NodeKind::Seq(out))
            }
            _ => node.clone(),
        }))
    }

    /// Resolves a property tree, reporting each unresolvable intrinsic at its
    /// own path (relative to `path`) and keeping the rest.
    pub fn resolve_tree(
        &self,
        node: &Node,
        path: &str,
        errors: &mut Vec<(String, u32, String)>,
    ) -> Option<Node> {
        if let Some(("Fn::If", [condition, then, otherwise])) = intrinsic(node)
            .as_ref()
            .map(|(name, arg)| (name.as_str(), arg.as_seq().unwrap_or_default()))
        {
            // The chosen branch is resolved in place, so that its problems
            // are reported at their own paths.
            if let Some(condition) = condition.as_str() {
                return match self.condition(condition, 0) {
                    Ok(true) => self.resolve_tree(then, path, errors),
                    Ok(false) => self.resolve_tree(otherwise, path, errors),
                    Err(message) => {
                        errors.push((path.to_owned(), node.line, message));
                        Some(Node::new(node.line, NodeKind::Null))
                    }
                };
            }
        }
        if intrinsic(node).is_some() {
            return match self.eval(node, 0) {
                Ok(v) => v,
                Err(message) => {
                    errors.push((path.to_owned(), node.line, message));
                    Some(Node::new(node.line, NodeKind::Null))
                }
            };
        }
        Some(match &node.kind {
            NodeKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for e in entries {
                    let p = crate::node::join(path, &e.source_key);
                    if let Some(value) = self.resolve_tree(&e.value, &p, errors) {
                        out.push(Entry {
                            key: e.key.clone(),
                            source_key: e.source_key.clone(),
                            line: e.line,
                            value,
                        });
                    }
                }
                Node::new(node.line, NodeKind::Map(out))
            }
            NodeKind::Seq(items) => Node::new(
                node.line,
                NodeKind::Seq(
                    items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, n)| self.resolve_tree(n, &format!("{path}[{i}]"), errors))
                        .collect(),
                ),
            ),
            _ => node.clone(),
        })
    }

    /// A value that must be one string (names, `Fn::Sub` variables).
    pub fn eval_text(&self, node: &Node, hops: usize) -> Result<String, String> {
        match self.eval(node, hops)? {
            Some(v) => {
                scalar_text(&v).ok_or_else(|| format!("expected a string, got {}", v.type_name()))
            }
            None => Err("AWS::NoValue where a value is required".into()),
        }
    }

    fn eval_list(&self, node: &Node, hops: usize) -> Result<Vec<Node>, String> {
        match self.eval(node, hops)? {
            Some(Node {
                kind: NodeKind::Seq(items),
                ..
            }) => Ok(items),
            Some(v) => Err(format!("expected a list, got {}", v.type_name())),
            None => Err("AWS::NoValue where a list is required".into()),
        }
    }

    fn call(&self, name: &str, arg: &Node, hops: usize) -> Eval {
        let line = arg.line;
        let text = |s: String| Ok(Some(Node::string(line, s)));
        match name {
            "Ref" => {
                let target = arg
                    .as_str()
                    .ok_or("Ref takes the name of a parameter or resource")?;
                self.reference(target, hops)
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match &arg.kind {
                    NodeKind::String(s) => match s.split_once('.') {
                        Some((r, a)) => (r.to_owned(), a.to_owned()),
                        None => return Err(format!("Fn::GetAtt '{s}' must be Resource.Attribute")),
                    },
                    NodeKind::Seq(items) if items.len() == 2 => (
                        self.eval_text(&items[0], hops)?,
                        self.eval_text(&items[1], hops)?,
                    ),
                    _ => return Err("Fn::GetAtt takes [Resource, Attribute]".into()),
                };
                self.get_att(&resource, &attribute, hops)
                    .map(|s| Some(Node::string(line, s)))
            }
            "Fn::Sub" => text(self.sub(arg, hops)?),
            "Fn::Join" => {
                let [delimiter, list] = pair(arg, "Fn::Join takes [delimiter, [values]]")?;
                let delimiter = self.eval_text(delimiter, hops)?;
                let parts = self
                    .eval_list(list, hops)?
                    .iter()
                    .map(|n| {
                        scalar_text(n).ok_or_else(|| {
                            format!("Fn::Join values must be strings, not {}", n.type_name())
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                text(parts.join(&delimiter))
            }
            "Fn::Select" => {
                let [index, list] = pair(arg, "Fn::Select takes [index, [values]]")?;
                let index: usize = self
                    .eval_text(index, hops)?
                    .trim()
                    .parse()
                    .map_err(|_| "Fn::Select index must be a number")?;
                let list = self.eval_list(list, hops)?;
                let len = list.len();
                list.into_iter().nth(index).map(Some).ok_or_else(|| {
                    format!("Fn::Select index {index} is out of range (the list has {len})")
                })
            }
            "Fn::Split" => {
                let [delimiter, source] = pair(arg, "Fn::Split takes [delimiter, string]")?;
                let delimiter = self.eval_text(delimiter, hops)?;
                if delimiter.is_empty() {
                    return Err("Fn::Split delimiter is empty".into());
                }
                let source = self.eval_text(source, hops)?;
                let items = source
                    .split(delimiter.as_str())
                    .map(|s| Node::string(line, s))
                    .collect();
                Ok(Some(Node::new(line, NodeKind::Seq(items))))
            }
            "Fn::If" => {
                let items = arg
                    .as_seq()
                    .filter(|s| s.len() == 3)
                    .ok_or("Fn::If takes [condition, then, else]")?;
                let condition = items[0]
                    .as_str()
                    .ok_or("Fn::If's first item must be a condition name")?;
                let branch = if self.condition(condition, hops)? {
                    &items[1]
                } else {
                    &items[2]
                };
                self.eval(branch, hops)
            }
            "Fn::FindInMap" => {
                let items = arg
                    .as_seq()
                    .filter(|s| s.len() == 3)
                    .ok_or("Fn::FindInMap takes [map, key, key]")?;
                let keys = items
                    .iter()
                    .map(|n| self.eval_text(n, hops))
                    .collect::<Result<Vec<_>, _>>()?;
                let value = self
                    .t
                    .mappings
                    .and_then(|m| m.get(&keys[0]))
                    .and_then(|m| m.get(&keys[1]))
                    .and_then(|m| m.get(&keys[2]))
                    .ok_or_else(|| {
                        format!(
                            "Fn::FindInMap: Mappings has no {}.{}.{}",
                            keys[0], keys[1], keys[2]
                        )
                    })?;
                self.eval(value, hops)
            }
            "Fn::ImportValue" => {
                let name = self.eval_text(arg, hops)?;
                self.t
                    .imports
                    .value(&name)
                    .map(|v| Some(Node::string(line, v)))
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" | "Condition" => Err(format!(
                "{name} is only valid in Conditions (use Fn::If with a condition here)"
            )),
            other => Err(format!(
                "{other} cannot be resolved without deploying the stack"
            )),
        }
    }

    fn reference(&self, target: &str, hops: usize) -> Eval {
        let opts = self.t.opts;
        let given = |key: &str| opts.params.get(key).map(|v| Node::string(0, v.clone()));
        let pseudo = match target {
            "AWS::Region" => Some(Node::string(0, opts.arn.region.clone())),
            "AWS::AccountId" => Some(Node::string(0, opts.arn.account.clone())),
            "AWS::Partition" => Some(Node::string(0, opts.arn.partition.clone())),
            "AWS::URLSuffix" => {
                let suffix = if opts.arn.partition == "aws-cn" {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                Some(Node::string(0, suffix))
            }
            "AWS::NoValue" => return Ok(None),
            t if t.starts_with("AWS::") => match given(t) {
                Some(v) => Some(v),
                None => {
                    return Err(format!(
                        "pseudo parameter {t} is not known here (pass --param {t}=VALUE)"
                    ))
                }
            },
            _ => None,
        };
        if let Some(v) = pseudo {
            return Ok(Some(v));
        }
        if let Some(value) = self.t.params.get(target) {
            return value.clone().map(Some);
        }
        match self.t.resources.get(target) {
            Some(r) if appmesh_type(r.type_name).is_some() => {
                let id = self.identity(target, hops)?;
                Ok(Some(Node::string(0, id.arn(&opts.arn))))
            }
            Some(r) => Err(format!(
                "Ref {target} ({}) is only known once the stack is deployed",
                r.type_name
            )),
            None => Err(format!(
                "Ref {target}: the template has no parameter or resource of that name"
            )),
        }
    }

    fn get_att(&self, resource: &str, attribute: &str, hops: usize) -> Result<String, String> {
        let r = self.t.resources.get(resource).ok_or_else(|| {
            format!("Fn::GetAtt {resource}.{attribute}: the template has no resource {resource}")
        })?;
        let Some(ty) = appmesh_type(r.type_name) else {
            // A name property given in the template is the value of its Name attribute.
            if attribute == "Name" {
                if let Some(name) = r.properties.and_then(|p| p.get("Name")) {
                    return self.eval_text(name, hops + 1);
                }
            }
            return Err(format!(
                "Fn::GetAtt {resource}.{attribute} ({}) is only known once the stack is deployed",
                r.type_name
            ));
        };
        let id = self.identity(resource, hops)?;
        match attribute {
            "Arn" => Ok(id.arn(&self.t.opts.arn)),
            "MeshName" => Ok(id.mesh),
            "MeshOwner" | "ResourceOwner" => Ok(id.owner),
            a if Some(a) == ty.name_property => Ok(id.name),
            a if Some(a) == ty.parent_property => Ok(id.parent.unwrap_or_default()),
            "Uid" => Err(format!(
                "Fn::GetAtt {resource}.Uid is only known once the stack is deployed"
            )),
            other => Err(format!(
                "Fn::GetAtt {resource}.{other}: {} has no attribute {other}",
                r.type_name
            )),
        }
    }

    /// The identity of an App Mesh resource of the template, from its name
    /// properties; errors name the resource and property.
    pub fn identity(&self, logical_id: &str, hops: usize) -> Result<ResourceId, String> {
        self.identity_parts(logical_id, hops)
            .map_err(|e| match e.property {
                Some(key) => format!("{logical_id}.Properties.{key}: {}", e.message),
                None => e.message,
            })
    }

    /// As [`Self::identity`], with the failing property apart from the message.
    pub fn identity_parts(&self, logical_id: &str, hops: usize) -> Result<ResourceId, NameError> {
        let whole = |message: String| NameError {
            property: None,
            message,
        };
        if hops > MAX_HOPS {
            return Err(whole(format!(
                "references through {logical_id} go round in a circle"
            )));
        }
        let r = self
            .t
            .resources
            .get(logical_id)
            .ok_or_else(|| whole(format!("no resource {logical_id}")))?;
        let ty = appmesh_type(r.type_name)
            .ok_or_else(|| whole(format!("{logical_id} is not an App Mesh resource")))?;
        let prop = |key: &str, kind: ResourceKind| -> Result<Option<String>, NameError> {
            match r.properties.and_then(|p| p.get(key)) {
                None => Ok(None),
                Some(node) => {
                    let s = self
                        .eval_text(node, hops + 1)
                        .map_err(|message| NameError {
                            property: Some(key.to_owned()),
                            message,
                        })?;
                    Ok(Some(name_from_arn(&s, kind, &self.t.opts.arn)))
                }
            }
        };
        let required = |key: &str, kind| {
            prop(key, kind)?.filter(|s| !s.is_empty()).ok_or_else(|| NameError {
                property: Some(key.to_owned()),
                message: format!(
                    "{logical_id} has no {key}: CloudFormation would generate a name meshplane cannot know; set {key}"
                ),
            })
        };
        let mesh = required("MeshName", ResourceKind::Mesh)?;
        let owner = prop("MeshOwner", ResourceKind::Mesh)?
            .unwrap_or_else(|| self.t.opts.arn.account.clone());
        meshplane_spec::check_account_id(&owner).map_err(|why| NameError {
            property: Some("MeshOwner".to_owned()),
            message: format!("MeshOwner {why}"),
        })?;
        Ok(match (ty.name_property, ty.parent_property) {
            (None, _) => ResourceId::mesh(&mesh, &owner),
            (Some(name), None) => {
                ResourceId::new(&mesh, &owner, ty.kind, &required(name, ty.kind)?)
            }
            (Some(name), Some(parent)) => {
                let parent_kind = ty.kind.parent_kind().unwrap_or(ty.kind);
                let parent = required(parent, parent_kind)?;
                ResourceId::child(&mesh, &owner, ty.kind, &parent, &required(name, ty.kind)?)
            }
        })
    }

    /// Evaluates a named condition of the template.
    pub fn condition(&self, name: &str, hops: usize) -> Result<bool, String> {
        if hops > MAX_HOPS {
            return Err(format!("condition {name} refers to itself"));
        }
        let node = self
            .t
            .conditions
            .get(name)
            .ok_or_else(|| format!("the template has no condition {name}"))?;
        self.condition_expr(node, hops + 1)
            .map_err(|e| format!("condition {name}: {e}"))
    }

    fn condition_expr(&self, node: &Node, hops: usize) -> Result<bool, String> {
        let (name, arg) = intrinsic(node)
            .ok_or("a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition")?;
        let items = || arg.as_seq().ok_or_else(|| format!("{name} takes a list"));
        match name.as_str() {
            "Fn::Equals" => {
                let [a, b] = pair(arg, "Fn::Equals takes [a, b]")?;
                Ok(self.eval_text(a, hops)? == self.eval_text(b, hops)?)
            }
            "Fn::Not" => match items()? {
                [c] => Ok(!self.condition_expr(c, hops)?),
                _ => Err("Fn::Not takes [condition]".into()),
            },
            "Fn::And" => items()?
                .iter()
                .try_fold(true, |acc, c| Ok(acc & self.condition_expr(c, hops)?)),
            "Fn::Or" => items()?
                .iter()
                .try_fold(false, |acc, c| Ok(acc | self.condition_expr(c, hops)?)),
            "Condition" => self.condition(
                arg.as_str().ok_or("Condition takes a condition name")?,
                hops,
            ),
            other => Err(format!("{other} is not a condition function")),
        }
    }

    fn sub(&self, arg: &Node, hops: usize) -> Result<String, String> {
        let (template, vars) = match &arg.kind {
            NodeKind::String(s) => (s.as_str(), None),
            NodeKind::Seq(items) if items.len() == 2 => (
                items[0]
                    .as_str()
                    .ok_or("Fn::Sub's first item must be a string")?,
                Some(&items[1]),
            ),
            _ => return Err("Fn::Sub takes a string or [string, {variables}]".into()),
        };
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or("Fn::Sub: '${' without a closing '}'")?;
            let var = &after[..end];
            if let Some(literal) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = vars.and_then(|v| v.get(var)) {
                out.push_str(&self.eval_text(value, hops)?);
            } else if let Some((resource, attribute)) = var.split_once('.') {
                out.push_str(&self.get_att(resource.trim(), attribute.trim(), hops)?);
            } else {
                match self.reference(var.trim(), hops)? {
                    Some(v) => out.push_str(
                        &scalar_text(&v)
                            .ok_or_else(|| format!("Fn::Sub: ${{{var}}} is not a string"))?,
                    ),
                    None => return Err(format!("Fn::Sub: ${{{var}}} is AWS::NoValue")),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn pair<'n>(arg: &'n Node, usage: &str) -> Result<[&'n Node; 2], String> {
    match arg.as_seq() {
        Some([a, b]) => Ok([a, b]),
        _ => Err(usage.to_owned()),
    }
}

/// A resolved value takes the line of the intrinsic it replaced.
fn relocate(node: &mut Node, line: u32) {
    node.line = line;
    if let NodeKind::Seq(items) = &mut node.kind {
        items.iter_mut().for_each(|n| relocate(n, line));
    }
}

/// A name where an App Mesh ARN was given (`Ref` of an App Mesh resource is
/// its ARN): the part of the ARN of the expected kind.
pub fn name_from_arn(value: &str, kind: ResourceKind, ctx: &meshplane_spec::ArnContext) -> String {
    if !value.starts_with("arn:") {
        return value.to_owned();
    }
    match ResourceId::parse(value, ctx) {
        Ok(id) if kind == ResourceKind::Mesh => id.mesh,
        Ok(id) if id.kind == kind => id.name,
        Ok(id) if id.kind.parent_kind() == Some(kind) => id.parent.unwrap_or(id.name),
        _ => value.to_owned(),
    }
}
