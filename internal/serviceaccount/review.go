package serviceaccount

import "context"

// Review is what a TokenReview learns of a token besides its user: the
// audiences it asks for and, from the service account authenticator, why
// it refused the token and which audiences it accepted it for
// (upstream's authenticator.Response.Audiences and the error its token
// authenticators return).
type Review struct {
	// Audiences are the audiences asked for; nil means the API's.
	Audiences []string
	// Err is the service account authenticator's refusal.
	Err error
	// Accepted are the audiences the token was accepted for.
	Accepted []string
}

type reviewKey struct{}

// WithReview returns a context in which the authenticator records what
// it finds of a token in rv.
func WithReview(ctx context.Context, rv *Review) context.Context {
	return context.WithValue(ctx, reviewKey{}, rv)
}

func reviewFrom(ctx context.Context) *Review {
	rv, _ := ctx.Value(reviewKey{}).(*Review)
	return rv
}
