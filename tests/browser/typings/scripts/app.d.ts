// What ComfyUI's /scripts/app.js gives an extension, typed by the frontend's own package.
import type { ComfyApp } from "@comfyorg/comfyui-frontend-types";
export declare const app: ComfyApp;
