/** The Hono environment every route module shares: the variables middleware sets on the context. */
export type AppEnv = { Variables: { requestId: string } };
