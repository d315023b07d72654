// Package releasecheck holds no code, only tests: they check that every file
// naming a release artifact agrees with every other before a tag is pushed.
//
// One version, in the root VERSION file, is shared by the server binary, the
// image ghcr.io/socketx/socketx-server, the Helm chart (version and
// appVersion), the npm package @socketx/client and CHANGELOG.md. The tests
// read the Dockerfiles, README.md, docs/DEPLOY.md, the chart, the
// CloudFormation template, sdk/js/package.json, the demo page and the
// workflows in .github/workflows, and fail with the file and the value that
// disagrees.
//
// `make release-check` runs them with actionlint. The release workflow runs
// them again with SOCKETX_RELEASE_TAG set to the pushed tag: then the tag must
// be v<VERSION> and CHANGELOG.md must have a dated section for VERSION.
package releasecheck
