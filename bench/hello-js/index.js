// Hello world in JavaScript: the peer a hand-written worker would be.
export default {
  async fetch() {
    return new Response('{"status":"ok"}', { headers: { "content-type": "application/json" } });
  },
};
