/** The content type of every JSON answer, success or error, whichever path writes it. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
