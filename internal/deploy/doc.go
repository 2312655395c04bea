// Package deploy loads the SAM template (template.yaml) so that tests can
// check the deployment the way CloudFormation will read it.
//
// The SAM CLI cannot run on the development machines and `sam local` needs
// Docker, so the template is kept valid by test instead: LoadTemplate parses
// it with the parser of github.com/aws-cloudformation/rain, which understands
// the short-form intrinsic functions (!Ref, !Sub, !GetAtt ...) and rewrites
// them in their long form, and the tests walk the resulting tree. The Go
// CloudFormation type library (goformation) lags the resource specification
// (no LoggingConfig or RecursiveLoop) and rejects fields it does not know, so
// it is not used.
//
// Besides the tree, a Template answers the questions the deployment tests
// ask most: the resources of a type, every IAM policy statement with the
// resource that holds it (Statements), and the references that name nothing
// declared (UnresolvedReferences). The helpers Ref, Sub, GetAtt, Lookup and
// Strings read intrinsic functions and values in the tree.
//
// The tests of this package also build the Lambda bootstrap exactly as the
// Makefile does and check that the binary is a static linux/arm64
// executable, and that the sample events in events/ decode as S3 events.
package deploy
