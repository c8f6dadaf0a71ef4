//! The options every command that loads specs shares: CloudFormation
//! parameter values, `Fn::ImportValue` values, each given one by one or in
//! files, and `--verbose` to list the documents that are not App Mesh specs.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use meshplane_load::{parse_assignment, read_values_file, LoadOptions, Loaded};
use meshplane_spec::ArnContext;

#[derive(Debug, Clone, Default, Args)]
pub struct LoadArgs {
    /// A CloudFormation parameter value, as Name=Value (repeatable; wins
    /// over --params-file). `AWS::StackName=...` sets the stack name.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_assignment)]
    pub params: Vec<(String, String)>,
    /// A file of CloudFormation parameter values (repeatable): `aws cloudformation
    /// deploy --parameter-overrides` shorthand (Name=Value ...) or JSON, CloudFormation's
    /// parameters JSON ([{"ParameterKey", "ParameterValue"}]) or a CodePipeline
    /// template configuration ({"Parameters": {...}}).
    #[arg(
        long = "params-file",
        value_name = "FILE",
        env = "MESHPLANE_PARAMS_FILE",
        value_delimiter = ','
    )]
    pub params_files: Vec<PathBuf>,
    /// A value for `Fn::ImportValue`, as Name=Value (repeatable; wins over
    /// --imports-file and over the exports of the templates loaded).
    #[arg(long = "import", value_name = "NAME=VALUE", value_parser = parse_assignment)]
    pub imports: Vec<(String, String)>,
    /// A file of `Fn::ImportValue` values (repeatable): the formats of
    /// --params-file, or `aws cloudformation list-exports` output.
    #[arg(
        long = "imports-file",
        value_name = "FILE",
        env = "MESHPLANE_IMPORTS_FILE",
        value_delimiter = ','
    )]
    pub imports_files: Vec<PathBuf>,
    /// List the documents skipped because they are not App Mesh specs
    /// (the Deployments of a manifest, templates without App Mesh resources).
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

impl LoadArgs {
    /// The loader's options: files first, then the values given one by one.
    pub fn options(&self, arn: ArnContext) -> anyhow::Result<LoadOptions> {
        let mut opts = LoadOptions {
            arn,
            ..LoadOptions::default()
        };
        for file in &self.params_files {
            let values = read_values_file(file).context("--params-file")?;
            opts.params.extend(values);
        }
        opts.params.extend(self.params.iter().cloned());
        for file in &self.imports_files {
            let values = read_values_file(file).context("--imports-file")?;
            opts.imports.extend(values);
        }
        opts.imports.extend(self.imports.iter().cloned());
        Ok(opts)
    }

    /// With --verbose, one line per skipped document.
    pub fn skipped_lines(&self, loaded: &Loaded) -> Vec<String> {
        if !self.verbose {
            return Vec::new();
        }
        loaded
            .skipped
            .iter()
            .map(|s| format!("note: {s}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_given_one_by_one_win_over_files() {
        let dir = std::env::temp_dir().join(format!("meshplane-load-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("overrides.txt");
        std::fs::write(&file, "Env=staging Port=8080\n").expect("write");
        let args = LoadArgs {
            params: vec![("Env".into(), "prod".into())],
            params_files: vec![file.clone()],
            imports_files: vec![file],
            ..LoadArgs::default()
        };
        let opts = args.options(ArnContext::default()).expect("options");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(opts.params["Env"], "prod");
        assert_eq!(opts.params["Port"], "8080");
        assert_eq!(opts.imports["Env"], "staging");
        let missing = LoadArgs {
            params_files: vec![PathBuf::from("/nonexistent/params.json")],
            ..LoadArgs::default()
        };
        let err = format!(
            "{:#}",
            missing
                .options(ArnContext::default())
                .expect_err("a missing file")
        );
        assert!(
            err.starts_with("--params-file: /nonexistent/params.json: "),
            "{err}"
        );
    }
}
