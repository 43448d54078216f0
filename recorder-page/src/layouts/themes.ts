import type { ThemeName } from './names';

/**
 * What a theme changes in the picture: plain data the compositor reads on every frame, so a
 * theme can be swapped while recording by replacing the object.
 */
export interface Theme {
  /** The canvas behind the tiles. */
  background: string;
  /** The tile of a participant without a camera. */
  nameTile: string;
  /** A participant's name on their name tile. */
  nameText: string;
  /** The initials on the avatar circle (the circles are saturated in both themes). */
  avatarText: string;
  avatarColours: readonly string[];
  /** The border of whoever speaks. */
  speakingBorder: string;
  /** Around a screen share that does not fill its tile. */
  screenBackdrop: string;
}

const AVATAR_COLOURS = ['#5b6ee1', '#d95763', '#37946e', '#df7126', '#76428a', '#306082'];

export const THEMES: Readonly<Record<ThemeName, Theme>> = {
  dark: {
    background: '#101318',
    nameTile: '#2b3040',
    nameText: '#ffffff',
    avatarText: '#ffffff',
    avatarColours: AVATAR_COLOURS,
    speakingBorder: '#3fb950',
    screenBackdrop: '#000000',
  },
  light: {
    background: '#eef0f4',
    nameTile: '#d5dae3',
    nameText: '#1f2328',
    avatarText: '#ffffff',
    avatarColours: AVATAR_COLOURS,
    speakingBorder: '#1a7f37',
    screenBackdrop: '#ffffff',
  },
};
