// Package docs carries the API description that the server serves and the tests check.
package docs

import _ "embed"

// OpenAPI is the OpenAPI 3 description of every endpoint, in YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte
