// The shapes of the API's answers that the console reads. The OpenAPI document does not yet
// describe success responses; client.ts uses the generated type of a response wherever the
// document has one and these otherwise, so once the document types a response, tsc checks the
// pages against it. Field names as the server renders them (src/*/api/*.cc).

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  email: string;
  platform_roles: string[];
  disabled: boolean;
  has_password: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Me extends User {
  scopes: string[];
  auth: 'session' | 'token';
  token_id?: string;
}

export interface LoginReply {
  user: User;
  csrf_token: string;
  expires_at: string;
}

export type AccessLevel = 'open' | 'registered' | 'consortium' | 'project' | 'restricted' | 'hidden';

export interface Dataset {
  id: string;
  org_id: string;
  project_id: string | null;
  name: string;
  title: string;
  description: string;
  license: string;
  tags: string[];
  access_level: AccessLevel;
  listed: boolean;
  accepts_contributions: boolean;
  consortium: string[];
  datasheet: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface Version {
  id: string;
  dataset_id: string;
  seq: number;
  parent: string | null;
  message: string;
  files: number;
  bytes: number;
  new_bytes: number;
  created_by: string;
  contributor: string | null;
  created_at: string;
  tags: string[];
}

export interface FileEntry {
  path: string;
  size: number;
  sha256?: string;        // only for those who may download the bytes
  quarantined?: boolean;  // flagged as personal data: not served
}

export interface FilePage extends Page<FileEntry> {
  version: string;
}

export interface Project {
  id: string;
  org_id: string;
  name: string;
  title: string;
}

export interface AccessRequest {
  id: string;
  dataset_id: string;
  state: string;
}

export interface Contribution {
  id: string;
  dataset_id: string;
  upload_id: string;
  title: string;
  state: string;
}
