// The client side of the README's CI recipe: the official SDK, configured
// only by OPENAI_BASE_URL and OPENAI_API_KEY, asks about the weather and
// prints what it got and how many attempts it took.
import OpenAI from 'openai';

const attempts = [];
const client = new OpenAI({
    fetch: async (url, init) => {
        const res = await fetch(url, init);
        attempts.push(res.status);
        return res;
    },
});
const r = await client.chat.completions.create({
    model: 'ci-model',
    messages: [{ role: 'user', content: 'What is the weather like?' }],
});
console.log(JSON.stringify({ content: r.choices[0].message.content, attempts }));
