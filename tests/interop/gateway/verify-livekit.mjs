// Verifies a LiveKit access token with livekit-server-sdk's TokenVerifier and prints its claims as JSON.
// Usage: node gateway/verify-livekit.mjs <apiKey> <apiSecret> <token>   (exit 1 when verification fails)
import { TokenVerifier } from 'livekit-server-sdk';

const [apiKey, apiSecret, token] = process.argv.slice(2);
try {
  const claims = await new TokenVerifier(apiKey, apiSecret).verify(token);
  process.stdout.write(JSON.stringify(claims));
} catch (e) {
  process.stderr.write(`verification failed: ${e?.message ?? e}\n`);
  process.exit(1);
}
