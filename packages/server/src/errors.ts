// Errors a caller can meet: an HTTP status, a stable code and a sentence saying what to do.
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what = 'That item') => new ApiError(404, 'not_found', `${what} was not found in your organisation; check the id.`);
export const badRequest = (message: string) => new ApiError(400, 'bad_request', message);
export const forbidden = (message = 'Your role does not allow this; ask an admin or owner of your organisation.') => new ApiError(403, 'forbidden', message);
export const unauthenticated = (message = 'You are not signed in or your session has expired; sign in again.') => new ApiError(401, 'unauthenticated', message);
