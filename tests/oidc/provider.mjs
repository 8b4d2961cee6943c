// The city's identity provider for the sign-in tests: node's oidc-provider on 127.0.0.1.
// Its development sign-in form accepts any password; the login name picks the person below.
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI. Prints "listening <issuer>" when ready.
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const people = {
  ann: { email: "ann.sso@example.gov", name: "Ann (SSO)", groups: ["public-works-staff"] },
  ops: { email: "ops.sso@example.gov", name: "Ops (SSO)", groups: ["program-office"] },
  nobody: { email: "nobody.sso@example.gov", name: "Nobody", groups: ["visitors"] },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
  conformIdTokenClaims: false, // the ID token carries email, name and groups
  pkce: { required: () => true },
  cookies: { keys: ["test-only-cookie-key"] },
  findAccount: async (ctx, sub) => {
    const who = people[sub] || { email: `${sub}@unknown.example`, name: sub, groups: [] };
    return {
      accountId: sub,
      claims: async () => ({ sub, email: who.email, email_verified: true, name: who.name, groups: who.groups }),
    };
  },
});
provider.proxy = false;
provider.listen(port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
