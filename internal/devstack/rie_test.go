package devstack

import (
	"encoding/json"
	"testing"
)

func TestRIE_Invoke(t *testing.T) {
	ctx := testContext(t)
	bootstrap, err := BuildBootstrap(ctx, "./testdata/echo", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := StartRIE(ctx, bootstrap, stack.Env())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("RIE.Close: %v", err)
		}
	})

	tests := []struct {
		name, payload, want string
	}{
		{"Echo", `{"hello":"world","n":[1,2,3]}`, `{"hello":"world","n":[1,2,3]}`},
		{"S3Endpoint", `{"env":"AWS_ENDPOINT_URL_S3"}`, mustJSON(t, map[string]string{"value": stack.S3Endpoint})},
		{"PathStyle", `{"env":"FLATGUARD_S3_PATH_STYLE"}`, `{"value":"true"}`},
		{"RuntimeAPI", `{"env":"AWS_LAMBDA_RUNTIME_API"}`, mustJSON(t, map[string]string{"value": r.RuntimeAPI})},
		{"NoCallerEnv", `{"env":"GOFLAGS"}`, `{"value":""}`},
		{"HandlerError", `{"fail":"feed unreadable"}`, `{"errorMessage":"feed unreadable","errorType":"errorString"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Invoke(ctx, []byte(tc.payload))
			if err != nil {
				t.Fatalf("Invoke(%s): %v\nlogs:\n%s", tc.payload, err, r.Logs())
			}
			if string(got) != tc.want {
				t.Errorf("Invoke(%s) = %s; want %s", tc.payload, got, tc.want)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
