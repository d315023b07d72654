// Package deploy holds the deployment artifacts of SocketX Server and the
// tests that keep them honest; it has no code of its own.
//
//   - ../Dockerfile.amd64, ../Dockerfile.arm64: distroless, non-root images
//     (deploy_test.go parses them and checks user, healthcheck, pinned base
//     images and build flags).
//   - aws/: the ECS Fargate CloudFormation template, parameters.json and
//     deploy.sh (cfn_test.go resolves every reference and checks the
//     WebSocket-specific settings; deploysh_test.go runs deploy.sh against a
//     fake aws CLI).
//   - helm/socketx/: the Helm chart for EKS and AKS (helm_test.go and
//     helm_options_test.go render it with helm and check the manifests, the
//     values schema and the alert expressions against telemetry's metrics);
//     helm/examples/: values files the documentation installs with.
//   - doccmd_test.go runs every shell block of README.md and docs/DEPLOY.md
//     (helm commands rendered, CloudFormation parameters and docker
//     variables checked, the rest through shellcheck).
//   - azure/: the Azure Marketplace Kubernetes-app offer: the CNAB
//     manifest.yaml, mainTemplate.json (the AKS cluster extension) and
//     createUiDefinition.json (azure_test.go checks that they agree with each
//     other and with the chart, and renders the chart with the settings the
//     template computes).
//
// checks.mk holds the make target deploy-check that runs all of it plus
// cross-compilation, a start-up smoke test and the arm64 tests under qemu.
// docs/DEPLOY.md is the user documentation.
package deploy
