// The unit loop's setup: compile what the tests start as processes, nothing more.
import { build } from './global-setup.js';

export default build;
