// Errors about a request made of a project (an unknown image, a point off
// the image, a job that cannot start). The web layer turns the kind into
// an HTTP status; the message is shown to the user as it is.
export type ProjectErrorKind = 'not-found' | 'invalid' | 'conflict';

export class ProjectError extends Error {
  override name = 'ProjectError';
  constructor(
    readonly kind: ProjectErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (message: string) => new ProjectError('not-found', message);
export const invalid = (message: string) => new ProjectError('invalid', message);
export const conflict = (message: string) => new ProjectError('conflict', message);
